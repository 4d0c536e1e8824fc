"""What GX judges, read from the project's data: the checks seed and the raw sources.

Every scorecard check is a row of `seeds/checks.csv`; every input GX guards is a table of the
`raw` source in `models/staging/_raw__sources.yml`. Nothing here lists either a second time.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import yaml

from signal_audit_core.config import ConfigError

DIRECTIONS = ("at_least", "at_most", "within")
# raw tables that are not an input: the rejects themselves
_NOT_INPUTS = frozenset({"rejected_rows"})
LANDED_SETTINGS = ("max_rejected_share", "max_load_age_hours")


@dataclass(frozen=True)
class Check:
    """One row of seeds/checks.csv."""

    check_name: str
    display_order: int
    title: str
    unit: str
    direction: str  # at_least / at_most / within (macros: check_status)
    pass_setting: str
    floor_setting: str | None  # the warn band's far end; None: no warn band
    meaning: str

    @property
    def fail_setting(self) -> str:
        """The setting beyond which the scorecard says fail: the floor, else the pass level."""
        return self.floor_setting or self.pass_setting


def read_checks(project_dir: Path) -> tuple[Check, ...]:
    """The checks in display order; a row GX could not judge is refused with one sentence."""
    seed = project_dir / "seeds" / "checks.csv"
    with open(seed, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    checks = []
    for row in rows:
        name = row["check_name"].strip()
        if row["direction"] not in DIRECTIONS:
            raise ConfigError(f"{seed}: check '{name}' has direction '{row['direction']}'; "
                              f"use one of {', '.join(DIRECTIONS)}")
        if not row["pass_setting"].strip():
            raise ConfigError(f"{seed}: check '{name}' names no pass_setting")
        checks.append(Check(
            check_name=name,
            display_order=int(row["display_order"]),
            title=row["title"],
            unit=row["unit"],
            direction=row["direction"],
            pass_setting=row["pass_setting"].strip(),
            floor_setting=row["floor_setting"].strip() or None,
            meaning=row["meaning"],
        ))
    return tuple(sorted(checks, key=lambda c: (c.display_order, c.check_name)))


def read_inputs(project_dir: Path) -> tuple[str, ...]:
    """The raw tables the pipelines land inputs in (each named as its source in rejected_rows)."""
    path = project_dir / "models" / "staging" / "_raw__sources.yml"
    sources = yaml.safe_load(path.read_text(encoding="utf-8"))["sources"]
    raw = next(s for s in sources if s["name"] == "raw")
    return tuple(t["name"] for t in raw["tables"] if t["name"] not in _NOT_INPUTS)


def required_settings(checks: tuple[Check, ...]) -> tuple[str, ...]:
    """Every setting the generated suites read from marts.audit_settings."""
    return (*dict.fromkeys(c.fail_setting for c in checks), *LANDED_SETTINGS)
