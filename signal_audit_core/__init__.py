"""What the loaders (`pipelines/`) and the CLI (`signal_audit/`) share: settings (`config`),
PII normalization and detection (`pii`), warehouse access (`warehouse`), and the engines an
audit runs on (`targets`). It imports
neither, so imports run one way: signal_audit -> pipelines -> signal_audit_core."""

import os

# An audit of customer data phones home to nobody: dlt, dbt and Great Expectations all send
# anonymous usage statistics unless told not to. A user's own setting still wins.
for _name, _value in (
    ("RUNTIME__DLTHUB_TELEMETRY", "false"),
    ("DBT_SEND_ANONYMOUS_USAGE_STATS", "false"),
    ("GX_ANALYTICS_ENABLED", "false"),
):
    os.environ.setdefault(_name, _value)
