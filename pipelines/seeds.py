"""Platform knowledge the pipelines need, read from the dbt seeds so it lives in one place.

A new platform is a row in `seeds/platforms.csv` and its keys in `seeds/match_keys.csv`; the
pipelines then accept its lines and redact its plaintext match keys without a code change.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from signal_audit_core.config import PROJECT_DIR

SEEDS_DIR = PROJECT_DIR / "seeds"


@dataclass(frozen=True)
class Platform:
    name: str
    user_object: str  # the event's customer-information object: `user_data`, `user`
    must_hash: frozenset[str]  # native keys of that object that may only carry SHA-256 hashes


def load_platforms(seeds_dir: Path = SEEDS_DIR) -> dict[str, Platform]:
    with open(seeds_dir / "match_keys.csv", encoding="utf-8", newline="") as fh:
        must_hash: dict[str, set[str]] = {}
        for row in csv.DictReader(fh):
            if row["must_hash"].strip().lower() == "true":
                must_hash.setdefault(row["platform"].strip(), set()).add(row["native_key"].strip())
    with open(seeds_dir / "platforms.csv", encoding="utf-8", newline="") as fh:
        return {
            name: Platform(name, row["user_object"].strip(), frozenset(must_hash.get(name, ())))
            for row in csv.DictReader(fh)
            if (name := row["platform"].strip().lower())
        }


def known_platforms(platforms: dict[str, Platform]) -> str:
    """For reject reasons: `meta, snap, tiktok`."""
    return ", ".join(sorted(platforms))
