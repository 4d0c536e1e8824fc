"""`signal-audit init`: a commented signal_audit.yml for the user's own data.

Given a sample of the orders export, the column mapping is proposed from its header (Shopify's
"Name", "Created at", "Financial Status", WooCommerce's "Order Number", ...). The audit
settings are written with the values in dbt_project.yml, the single source of the defaults:
the ones that describe the shop (time zone, platforms, statuses) active, the thresholds as
comments to uncomment, so the written file changes nothing until the user edits it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from signal_audit.checks.catalog import read_checks
from signal_audit_core.config import (
    DEFAULT_WAREHOUSE,
    ORDER_COLUMNS,
    PROJECT_DIR,
    REQUIRED_ORDER_COLUMNS,
    ConfigError,
    default_audit_settings,
    known_platforms,
)

# What each setting means, one line each (the long form is docs/settings.md).
SETTING_NOTES = {
    "reporting_timezone": "IANA zone; every report_date is a day in it (use your ad accounts' zone)",
    "counted_statuses": "order statuses that count as a purchase (test orders never count)",
    "platforms": "the platforms you use; one you don't send to would only say no_data",
    "audit_window_days": "length of the scorecard's window in days, both ends included",
    "audit_end_date": "last day of the window, 'YYYY-MM-DD'; null = the latest order day",
    "dedup_window_hours": "pixel and server events further apart than this do not deduplicate",
    "gap_threshold": "conversion gap at or above this, either direction, fails (a fraction)",
    "gap_severe_threshold": "gap at or above this is called severe",
    "match_quality_pass": "match score (0-10) at or above this passes",
    "match_quality_floor": "below this fails; between floor and pass warns",
    "email_coverage_min": "share of purchase events with a valid hashed email to pass",
    "field_validity_pass": "lowest required-field validity to pass",
    "field_validity_floor": "below this fails; between warns",
    "dedup_rate_pass": "share of pixel+server orders sharing an event_id to pass",
    "dedup_rate_floor": "below this fails; between warns",
    "latency_threshold_seconds": "an event sent within this many seconds of the order is on time",
    "timeliness_pass": "share of purchase events on time to pass (and none too old)",
    "timeliness_floor": "below this fails",
    "pii_plaintext_events_max": "server events with plaintext PII allowed before the check fails",
    "max_rejected_share": "per input, a share of rows rejected above this fails GX's landed-data guard",
    "max_load_age_hours": "per input, newest rows landed longer ago than this fail GX's landed-data guard",
}
# Settings that describe the shop rather than judge it: written active, not commented.
_ACTIVE = ("reporting_timezone", "platforms", "counted_statuses")

# Header names seen in real exports, normalized (lowercase, words joined by _), per contract column.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "order_id": ("order_id", "name", "order_number", "order_no", "order", "order_name", "id", "number",
                 "reference", "increment_id"),
    "created_at": ("created_at", "created", "order_date", "created_date", "placed_at", "processed_at",
                   "date_created", "date", "timestamp"),
    "status": ("status", "financial_status", "order_status", "payment_status"),
    "total_value": ("total_value", "total", "order_total", "grand_total", "total_price", "amount", "revenue",
                    "value"),
    "currency": ("currency", "currency_code", "order_currency"),
    "sales_channel": ("sales_channel", "channel", "source_name", "source"),
    "checkout_type": ("checkout_type", "customer_type"),
    "customer_id": ("customer_id", "customer", "user_id", "client_id", "customer_number"),
    "email": ("email", "customer_email", "email_address", "billing_email"),
    "phone": ("phone", "phone_number", "billing_phone", "customer_phone", "telephone"),
    "first_name": ("first_name", "billing_first_name", "firstname", "given_name"),
    "last_name": ("last_name", "billing_last_name", "lastname", "surname", "family_name"),
    "city": ("city", "billing_city"),
    "state": ("state", "province", "billing_province", "billing_state", "region"),
    "zip": ("zip", "postal_code", "postcode", "zip_code", "billing_zip", "billing_postcode"),
    "country": ("country", "country_code", "billing_country"),
    "marketing_consent": ("marketing_consent", "accepts_marketing", "consent", "newsletter"),
    "is_test": ("is_test", "test"),
}


@dataclass(frozen=True)
class InitOptions:
    orders: tuple[str, ...] = ()
    delivery_log: tuple[str, ...] = ()
    platform_reports: tuple[str, ...] = ()
    warehouse: str | None = None
    timezone: str | None = None
    platforms: tuple[str, ...] = ()


@dataclass(frozen=True)
class InitResult:
    path: Path
    mapped: dict[str, str] = field(default_factory=dict)  # contract column -> export column
    unmapped_required: tuple[str, ...] = ()
    sample: Path | None = None


def write_config(path: Path, options: InitOptions, force: bool = False) -> InitResult:
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; name the file to write, e.g. {path / 'signal_audit.yml'}")
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; pass --force to overwrite it")
    _validate(options)
    sample = _first_file(options.orders)
    # paths in the file are read relative to the file: rebase the ones given relative to here
    base = path.resolve().parent
    options = replace(
        options,
        orders=_rebase(options.orders, base),
        delivery_log=_rebase(options.delivery_log, base),
        platform_reports=_rebase(options.platform_reports, base),
        warehouse=_rebase((options.warehouse,), base)[0] if options.warehouse else None,
    )
    header = read_header(sample) if sample else None
    mapped = propose_mapping(header) if header is not None else {}
    unmapped = tuple(c for c in REQUIRED_ORDER_COLUMNS if header is not None and c not in mapped)
    text = render(options, mapped, header, sample)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return InitResult(path, mapped, unmapped, sample)


def _rebase(patterns: Sequence[str], base: Path) -> tuple[str, ...]:
    return tuple(p if os.path.isabs(p) else os.path.relpath(os.path.abspath(p), base) for p in patterns)


def _validate(options: InitOptions) -> None:
    if options.timezone:
        try:
            ZoneInfo(options.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(f"--timezone '{options.timezone}' is not an IANA time zone name "
                              "(e.g. Europe/Berlin, America/New_York)") from None
    known = known_platforms()
    unknown = [p for p in options.platforms if p not in known]
    if unknown:
        raise ConfigError(f"unknown platform(s) {', '.join(unknown)}; supported: {', '.join(known)}")


def _first_file(patterns: Sequence[str]) -> Path | None:
    """The first orders file the patterns name, to read its header; none is not an error."""
    if not patterns:
        return None
    from pipelines.files import expand

    files = expand(patterns, "orders")  # a pattern matching nothing is the user's typo: say so
    return files[0] if files else None


def read_header(path: Path) -> list[str]:
    from pipelines.files import InputError, open_text

    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several types for unreadable files
            raise InputError(f"{path} is not a readable Parquet file ({exc})") from None
    if name.endswith((".jsonl", ".ndjson")):
        with open_text(path) as fh:
            for line in fh:
                if line.strip():
                    try:
                        obj = json.loads(line)
                    except ValueError:
                        raise InputError(f"{path}: the first line is not JSON") from None
                    return list(obj) if isinstance(obj, dict) else []
        return []
    with open_text(path) as fh:
        return [c.strip() for c in next(csv.reader(fh), [])]


def _normalize(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def propose_mapping(header: Sequence[str]) -> dict[str, str]:
    """Contract column -> the header's column, each header column used at most once."""
    by_normal: dict[str, str] = {}
    for column in header:
        by_normal.setdefault(_normalize(column), column)
    used: set[str] = set()
    mapped: dict[str, str] = {}
    # exact contract names first, so a file in the contract's shape maps to itself
    for contract in ORDER_COLUMNS:
        if contract in by_normal:
            mapped[contract] = by_normal[contract]
            used.add(by_normal[contract])
    for contract in ORDER_COLUMNS:
        if contract in mapped:
            continue
        for synonym in _SYNONYMS.get(contract, ()):
            column = by_normal.get(synonym)
            if column is not None and column not in used:
                mapped[contract] = column
                used.add(column)
                break
    return mapped


_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n"}  # YAML would not read these as text


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    if isinstance(value, str):
        plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_./+*\-]*", value) and value.lower() not in _YAML_WORDS
        return value if plain else json.dumps(value)
    return json.dumps(value)


def _line(key: str, value: str, note: str, indent: int = 2, commented: bool = False) -> str:
    head = " " * indent + ("# " if commented else "") + f"{key}: {value}"
    return f"{head:<44} # {note}" if note else head


def render(options: InitOptions, mapped: dict[str, str], header: list[str] | None, sample: Path | None) -> str:
    settings = default_audit_settings()
    if options.timezone:
        settings["reporting_timezone"] = options.timezone
    if options.platforms:
        settings["platforms"] = list(options.platforms)
    today = dt.date.today().isoformat()
    out = [
        f"# signal-audit settings, written by `signal-audit init` on {today}.",
        "# Every section is optional; paths are relative to this file. Meanings: docs/settings.md.",
        "# Check it with `signal-audit run --config <this file>`: a wrong value is named in one sentence.",
        "",
        "# The DuckDB file the audit writes. One process writes at a time: close notebooks and BI",
        "# tools that hold it before a run (or give them the Parquet export: signal-audit export).",
        f"warehouse: {_scalar(options.warehouse or str(DEFAULT_WAREHOUSE))}",
        "",
        "# Your input files: paths or globs. Orders: CSV, Parquet or JSON Lines (.gz allowed);",
        "# delivery log: JSON Lines, one request or pixel fire a line; platform reports: CSV.",
    ]
    inputs = {"orders": options.orders, "delivery_log": options.delivery_log,
              "platform_reports": options.platform_reports}
    examples = {"orders": "exports/orders_*.csv", "delivery_log": "logs/capi-*.jsonl.gz",
                "platform_reports": "reports/*.csv"}
    if any(inputs.values()):
        out.append("inputs:")
        for key, paths in inputs.items():
            if paths:
                out.append(f"  {key}: {_scalar(list(paths) if len(paths) > 1 else paths[0])}")
            else:
                out.append(f"  # {key}: {examples[key]}")
    else:
        out.append("# inputs:")
        out += [f"#   {key}: {value}" for key, value in examples.items()]

    out += [
        "",
        "# How to read your orders export.",
        "orders:",
        "  # contract column: the column in your export. Required: " + ", ".join(REQUIRED_ORDER_COLUMNS) + ".",
        "  # Customer PII (email, phone, names, address) is normalized and SHA-256 hashed on load.",
    ]
    if header is not None and sample is not None:
        out.append(f"  # Proposed from the header of {sample.name}; check each line.")
    out.append("  columns:")
    for column in ORDER_COLUMNS:
        required = column in REQUIRED_ORDER_COLUMNS
        if column in mapped:
            note = "required" if required else "optional"
            out.append(_line(column, _scalar(mapped[column]), note, indent=4))
        elif header is not None:
            note = ("REQUIRED: not found in " + sample.name + ", name your column here") if required \
                else "optional: not found in " + sample.name  # type: ignore[union-attr]
            out.append(_line(column, "", note, indent=4, commented=True))
        else:
            out.append(_line(column, _scalar(column), "required" if required else "optional",
                             indent=4, commented=True))
    naive = options.timezone or "UTC"
    out += [
        _line("naive_timezone", _scalar(naive), "zone of timestamps written without an offset"),
        _line("default_phone_region", "DE", "ISO country of phones written without +country code",
              commented=True),
        "",
        "# The audit. Each setting is a dbt var; the defaults live in dbt_project.yml and the values",
        "# in force are published as marts.audit_settings. Fractions are 0-1.",
        "audit:",
    ]
    for key in _ACTIVE:
        out.append(_line(key, _scalar(settings[key]), SETTING_NOTES.get(key, "")))
    out.append("  # The checks (seeds/checks.csv) and the settings that bound them:")
    for check in read_checks(PROJECT_DIR):
        bounds = ", ".join(b for b in (check.pass_setting, check.floor_setting) if b)
        out.append(f"  #   {check.title} ({check.check_name}): {bounds}")
    out.append("  # Uncomment to change (the values shown are the defaults):")
    for key, value in settings.items():
        if key not in _ACTIVE:
            out.append(_line(key, _scalar(value), SETTING_NOTES.get(key, ""), commented=True))
    out += [
        "",
        "# Alerts: set the environment variable SIGNAL_AUDIT_WEBHOOK_URL to a Slack incoming-webhook",
        "# URL to be told when a check turns from pass to fail. It is a secret: keep it out of this file.",
        "",
    ]
    return "\n".join(out)
