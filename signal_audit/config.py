"""User configuration: one YAML file (`signal_audit.yml`), every field optional.

The `audit:` section holds the audit settings and thresholds. Their defaults live in
`dbt_project.yml` (`vars:`), the single source of truth; this module only validates the
user's overrides and hands them to dbt as `--vars`. dbt materializes the values in force as
the `audit_settings` table, which the Great Expectations suites read.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = Path("warehouse") / "signal_audit.duckdb"
WAREHOUSE_ENV = "SIGNAL_AUDIT_WAREHOUSE"

# The contract's order columns; the user's mapping renames their export's columns to these.
ORDER_COLUMNS = (
    "order_id", "created_at", "status", "total_value", "currency", "sales_channel",
    "checkout_type", "customer_id", "email", "phone", "first_name", "last_name", "city",
    "state", "zip", "country", "marketing_consent", "is_test",
)
REQUIRED_ORDER_COLUMNS = ("order_id", "created_at", "status", "total_value", "currency")


class ConfigError(ValueError):
    """A setting the user wrote is wrong; the message says which and why."""


@dataclass(frozen=True)
class OrdersConfig:
    columns: dict[str, str] = field(default_factory=dict)  # contract name -> user's column
    naive_timezone: str = "UTC"  # for created_at values written without an offset
    default_phone_region: str | None = None  # ISO alpha-2, for phones without country code

    def source_column(self, contract_name: str) -> str:
        return self.columns.get(contract_name, contract_name)


@dataclass(frozen=True)
class InputsConfig:
    orders: tuple[str, ...] = ()
    delivery_log: tuple[str, ...] = ()
    platform_reports: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.orders or self.delivery_log or self.platform_reports)


@dataclass(frozen=True)
class Config:
    warehouse: Path
    inputs: InputsConfig = field(default_factory=InputsConfig)
    orders: OrdersConfig = field(default_factory=OrdersConfig)
    audit: dict[str, Any] = field(default_factory=dict)  # overrides of dbt vars


def default_audit_settings() -> dict[str, Any]:
    """The defaults as written in dbt_project.yml `vars:`."""
    with open(PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)["vars"])


_FRACTIONS = (
    "gap_threshold", "gap_severe_threshold", "email_coverage_min", "field_validity_pass",
    "field_validity_floor", "dedup_rate_pass", "dedup_rate_floor", "timeliness_pass",
    "timeliness_floor",
)
_SCORES = ("match_quality_pass", "match_quality_floor")
_POSITIVE_INTS = ("audit_window_days", "dedup_window_hours", "latency_threshold_seconds")


def validate_audit_settings(overrides: dict[str, Any]) -> dict[str, Any]:
    """Check overrides against the known settings; return them unchanged when valid."""
    defaults = default_audit_settings()
    for key, value in overrides.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise ConfigError(f"unknown audit setting '{key}' (known settings: {known})")
        if key in _FRACTIONS and not _is_number_between(value, 0, 1):
            raise ConfigError(f"audit setting '{key}' must be a fraction between 0 and 1, got {value!r}")
        if key in _SCORES and not _is_number_between(value, 0, 10):
            raise ConfigError(f"audit setting '{key}' must be a score between 0 and 10, got {value!r}")
        if key in _POSITIVE_INTS and not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise ConfigError(f"audit setting '{key}' must be a whole number above 0, got {value!r}")
        if key == "reporting_timezone":
            try:
                ZoneInfo(str(value))
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ConfigError(f"reporting_timezone '{value}' is not an IANA time zone name") from exc
        if key == "audit_end_date" and value is not None:
            try:
                dt.date.fromisoformat(str(value))
            except ValueError as exc:
                raise ConfigError(f"audit_end_date must be YYYY-MM-DD, got {value!r}") from exc
        if key in ("counted_statuses", "platforms") and not (
            isinstance(value, list) and value and all(isinstance(v, str) for v in value)
        ):
            raise ConfigError(f"audit setting '{key}' must be a non-empty list of names")
    merged = {**defaults, **overrides}
    for low, high in (("gap_threshold", "gap_severe_threshold"),
                      ("match_quality_floor", "match_quality_pass"),
                      ("field_validity_floor", "field_validity_pass"),
                      ("dedup_rate_floor", "dedup_rate_pass"),
                      ("timeliness_floor", "timeliness_pass")):
        if merged[low] > merged[high]:
            raise ConfigError(f"audit setting '{low}' ({merged[low]}) must not exceed '{high}' ({merged[high]})")
    return overrides


def _is_number_between(value: Any, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _as_paths(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"inputs.{name} must be a path, a glob or a list of them")


def load_config(path: Path | None = None, warehouse: Path | None = None) -> Config:
    """Read `path` (or nothing: all defaults). `warehouse` overrides the file and the env var."""
    raw: dict[str, Any] = {}
    base = Path.cwd()
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"config file {path} does not exist")
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"config file {path} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise ConfigError(f"config file {path} must hold a mapping of settings")
        base = path.resolve().parent
    unknown = set(raw) - {"warehouse", "inputs", "orders", "audit"}
    if unknown:
        raise ConfigError(f"unknown section(s) in {path}: {', '.join(sorted(unknown))}")

    inputs_raw = raw.get("inputs") or {}
    inputs = InputsConfig(
        orders=_resolve(_as_paths(inputs_raw.get("orders"), "orders"), base),
        delivery_log=_resolve(_as_paths(inputs_raw.get("delivery_log"), "delivery_log"), base),
        platform_reports=_resolve(_as_paths(inputs_raw.get("platform_reports"), "platform_reports"), base),
    )

    orders_raw = raw.get("orders") or {}
    columns = orders_raw.get("columns") or {}
    bad = set(columns) - set(ORDER_COLUMNS)
    if bad:
        raise ConfigError(
            f"orders.columns maps unknown contract column(s) {', '.join(sorted(bad))}; "
            f"known: {', '.join(ORDER_COLUMNS)}"
        )
    orders = OrdersConfig(
        columns={str(k): str(v) for k, v in columns.items()},
        naive_timezone=str(orders_raw.get("naive_timezone", "UTC")),
        default_phone_region=orders_raw.get("default_phone_region"),
    )
    try:
        ZoneInfo(orders.naive_timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"orders.naive_timezone '{orders.naive_timezone}' is not an IANA time zone") from exc

    audit = validate_audit_settings(dict(raw.get("audit") or {}))

    if warehouse is None:
        if raw.get("warehouse"):
            warehouse = base / str(raw["warehouse"])
        elif os.environ.get(WAREHOUSE_ENV):
            warehouse = Path(os.environ[WAREHOUSE_ENV])
        else:
            warehouse = DEFAULT_WAREHOUSE
    return Config(warehouse=warehouse.resolve(), inputs=inputs, orders=orders, audit=audit)


def _resolve(patterns: tuple[str, ...], base: Path) -> tuple[str, ...]:
    return tuple(p if Path(p).is_absolute() else str(base / p) for p in patterns)
