"""The scorecard's checks as the reader sees them: titles, order, units and targets come from
the checks seed (reference.checks, seeds/checks.csv), statuses are labelled here once.

Nothing here knows a check by name: a new seed row shows up in the report and the terminal
with its title, its value in its unit and its target from its settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
import sqlalchemy

STATUSES = ("fail", "warn", "pass", "no_data")  # worst first: the order totals are shown in


def status_label(status: str) -> str:
    """pass -> PASS, no_data -> NO DATA."""
    return status.replace("_", " ").upper()


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    unit: str  # fraction, score or count
    direction: str  # within (|metric| below pass), at_least, at_most
    pass_setting: str | None
    floor_setting: str | None
    meaning: str


def read_checks(con: sqlalchemy.Connection) -> tuple[Check, ...]:
    """Every check of the seed, in display order."""
    rows = con.execute(sqlalchemy.text("""
        select check_name, title, unit, direction, pass_setting, floor_setting, meaning
        from reference.checks
        order by display_order, check_name
    """)).fetchall()
    return tuple(Check(*(None if v is None or v == "" else v for v in row)) for row in rows)


def metric_text(check: Check | None, value: object) -> str:
    """The check's value in its unit: +12.3% for a signed gap, 87.0%, 6.2 / 10, 94 events."""
    if value is None or pd.isna(value):
        return "no data"
    v = float(value)
    unit, direction = (check.unit, check.direction) if check else ("fraction", "at_least")
    if unit == "score":
        return f"{v:.1f} / 10"
    if unit == "count":
        return f"{int(v):,} events"
    return f"{v:+.1%}" if direction == "within" else f"{v:.1%}"


def target_text(check: Check | None, settings: Mapping[str, object], threshold: object = None) -> str:
    """Where the check passes and fails, from its settings in force (audit_settings); the
    scorecard's threshold stands in for a pass setting the warehouse does not list."""
    if check is None:
        return ""
    passes = _number(settings.get(check.pass_setting or ""))
    if passes is None:
        passes = _number(threshold)
    floor = _number(settings.get(check.floor_setting or ""))
    if passes is None:
        return ""
    bound = _bound(check.unit, passes)
    if check.direction == "within":
        return f"within ±{bound}"
    if check.direction == "at_most":
        return "none at all" if passes == 0 else f"at most {bound}"
    if floor is not None:
        return f"pass at {bound}, fails below {_bound(check.unit, floor)}"
    return f"at least {bound}"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    return float(value) if isinstance(value, int | float) else None


def _bound(unit: str, value: float) -> str:
    if unit == "fraction":
        return f"{value:.0%}"
    if unit == "count":
        return f"{int(value):,}"
    return f"{value:g}"
