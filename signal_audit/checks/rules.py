"""The scorecard checks as Great Expectations rules, with thresholds named by setting.

Each rule states where a check *fails*: GX fails the run exactly when dbt's scorecard says
`fail`. The numbers come from the `audit_settings` table that dbt built from the same vars,
never from constants here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CheckRule:
    check_name: str
    min_setting: str | None = None  # metric must be >= this setting (or > when strict)
    max_setting: str | None = None  # metric must be <= this setting (or < when strict)
    negate_max_for_min: bool = False  # min is -max (a symmetric band around zero)
    strict: bool = False
    max_value: float | None = None  # a fixed bound that is not a setting (pii_hashing: 0)

    def bounds(self, settings: dict[str, float]) -> tuple[float | None, float | None]:
        high = settings[self.max_setting] if self.max_setting else self.max_value
        low = settings[self.min_setting] if self.min_setting else None
        if self.negate_max_for_min and high is not None:
            low = -high
        return low, high


RULES: tuple[CheckRule, ...] = (
    # |gap| < gap_threshold passes; at or above it, either way, fails
    CheckRule("conversion_gap", max_setting="gap_threshold", negate_max_for_min=True, strict=True),
    CheckRule("match_quality", min_setting="match_quality_floor"),
    CheckRule("email_coverage", min_setting="email_coverage_min"),
    CheckRule("field_coverage", min_setting="field_validity_floor"),
    CheckRule("deduplication", min_setting="dedup_rate_floor"),
    CheckRule("timeliness", min_setting="timeliness_floor"),
    CheckRule("pii_hashing", max_value=0.0),
)
