"""signal-audit: is your server-side ad tracking actually working?"""

import signal_audit_core  # noqa: F401  (telemetry off before dlt, dbt or GX is imported)

__version__ = "0.1.0"
