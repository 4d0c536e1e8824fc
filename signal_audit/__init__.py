"""signal-audit: is your server-side ad tracking actually working?"""

import os

__version__ = "0.1.0"

# An audit of customer data phones home to nobody: dlt, dbt and Great Expectations all send
# anonymous usage statistics unless told not to. A user's own setting still wins.
for _name, _value in (
    ("RUNTIME__DLTHUB_TELEMETRY", "false"),
    ("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
    ("GX_ANALYTICS_ENABLED", "false"),
):
    os.environ.setdefault(_name, _value)
