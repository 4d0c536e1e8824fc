"""Platform knowledge the pipelines need, read from the dbt seeds so it lives in one place.

A new platform is a row in `seeds/platforms.csv`, its keys in `seeds/match_keys.csv` and the
paths of its fields in `seeds/delivery_log_fields.csv`; the pipelines then accept its lines,
redact its plaintext match keys and flatten its events without a code change.
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
    # canonical match key -> the platform's native key for it (`email` -> `em`), seed order
    native_keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class LogField:
    """One typed column of a platform's events, read from its native line (delivery_log_fields)."""

    platform: str
    column: str
    part: str  # event | request | response
    json_path: str
    kind: str  # text | json_type


def load_platforms(seeds_dir: Path = SEEDS_DIR) -> dict[str, Platform]:
    must_hash: dict[str, set[str]] = {}
    native: dict[str, list[tuple[str, str]]] = {}
    for row in _rows(seeds_dir / "match_keys.csv"):
        platform = row["platform"].strip()
        native.setdefault(platform, []).append((row["match_key"].strip(), row["native_key"].strip()))
        if row["must_hash"].strip().lower() == "true":
            must_hash.setdefault(platform, set()).add(row["native_key"].strip())
    return {
        name: Platform(name, row["user_object"].strip(), frozenset(must_hash.get(name, ())),
                       tuple(native.get(name, ())))
        for row in _rows(seeds_dir / "platforms.csv")
        if (name := row["platform"].strip().lower())
    }


def match_keys(seeds_dir: Path = SEEDS_DIR) -> tuple[str, ...]:
    """Every canonical match key, in seed order: raw.delivery_events has a `key_<name>` column each."""
    return tuple(dict.fromkeys(row["match_key"].strip() for row in _rows(seeds_dir / "match_keys.csv")))


def log_fields(seeds_dir: Path = SEEDS_DIR) -> tuple[LogField, ...]:
    fields = tuple(
        LogField(row["platform"].strip().lower(), row["column_name"].strip(), row["part"].strip(),
                 row["json_path"].strip(), row["kind"].strip())
        for row in _rows(seeds_dir / "delivery_log_fields.csv")
    )
    for field in fields:
        if field.part not in ("event", "request", "response") or field.kind not in ("text", "json_type"):
            raise ValueError(f"seeds/delivery_log_fields.csv: {field} has an unknown part or kind")
    return fields


def known_platforms(platforms: dict[str, Platform]) -> str:
    """For reject reasons: `meta, snap, tiktok`."""
    return ", ".join(sorted(platforms))


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
