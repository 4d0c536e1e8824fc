"""User configuration: one YAML file (`signal_audit.yml`), every field optional.

The `audit:` section holds the audit settings and thresholds. Their defaults live in
`dbt_project.yml` (`vars:`), the single source of truth; this module only validates the
user's overrides and hands them to dbt as `--vars`. dbt materializes the values in force as
the `audit_settings` table, which the Great Expectations suites read.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_WAREHOUSE = Path("warehouse") / "signal_audit.duckdb"
WAREHOUSE_ENV = "SIGNAL_AUDIT_WAREHOUSE"
# The engines an audit runs on (signal_audit_core/targets.py); on `spark`, load and build only.
TARGETS = ("duckdb", "postgres", "spark")
TARGET_ENV = "SIGNAL_AUDIT_TARGET"

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


# --- sources: orders from a database or a commerce API, Meta's Graph API, report exports ------

# Where each source's secret comes from: a dlt secret, i.e. the env var SOURCES__SHOPIFY__ACCESS_TOKEN
# or `[sources.shopify] access_token = "..."` in .dlt/secrets.toml. Never from signal_audit.yml.
SECRETS = {
    "sql": "sources.sql_orders.password",
    "shopify": "sources.shopify.access_token",
    "stripe": "sources.stripe.api_key",
    "meta_graph": "sources.meta.access_token",
}
# Keys that name a secret anywhere under `sources:` are refused: signal_audit.yml is usually
# committed, and a token there would also be echoed by anything that prints the settings.
_SECRET_KEYS = frozenset({
    "access_token", "token", "api_key", "apikey", "key", "secret", "client_secret", "password",
    "credentials",
})
REPORT_COLUMNS = ("date", "event_name", "events_received", "pixel_id", "events_deduplicated",
                  "events_matched", "match_quality_score")
REQUIRED_REPORT_COLUMNS = ("date", "event_name", "events_received")


def secret_env_var(source: str) -> str:
    """`SOURCES__SHOPIFY__ACCESS_TOKEN` for `shopify`: how dlt spells the secret as an env var."""
    return SECRETS[source].upper().replace(".", "__")


@dataclass(frozen=True)
class HttpConfig:
    """Retries of the API sources; None keeps dlt's own setting (`RUNTIME__REQUEST_MAX_ATTEMPTS`, ...)."""

    max_attempts: int | None = None
    backoff_factor: float | None = None  # exponential backoff: factor * 2^attempt seconds
    max_retry_delay: float | None = None  # also caps a server's Retry-After
    timeout: float | None = None


@dataclass(frozen=True)
class SqlOrdersConfig:
    url: str  # any SQLAlchemy URL, without its password
    table: str
    updated_at_column: str
    schema: str | None = None
    initial_updated_at: str | None = None  # ISO timestamp where the first run starts; None: all rows
    chunk_size: int = 50_000


@dataclass(frozen=True)
class ShopifyConfig:
    shop_url: str  # https://my-shop.myshopify.com
    api_version: str = "2024-10"
    order_id: str = "id"  # which field the tracking sends as order id: id, name or order_number
    updated_at_min: str | None = None  # where the first run starts; None: the oldest order
    sales_channels: dict[str, str] = field(default_factory=dict)  # source_name -> sales_channel
    page_size: int = 250


@dataclass(frozen=True)
class StripeConfig:
    base_url: str = "https://api.stripe.com"
    object: str = "charges"
    order_id: str = "id"  # id, payment_intent or metadata.<key>
    created_gte: str | None = None  # where the first run starts (date or timestamp); None: all
    refund_lookback_days: int = 7  # each run re-reads charges created this long before the cursor
    page_size: int = 100


@dataclass(frozen=True)
class MetaGraphConfig:
    pixel_ids: tuple[str, ...]
    api_version: str = "v21.0"
    base_url: str = "https://graph.facebook.com"
    dataset_quality: bool = True
    pixel_stats: bool = True
    pixel_stats_days: int = 7  # how far back the first run reads stats (Meta keeps about 7 days)
    pixel_stats_refetch_hours: int = 24  # hours re-read on every run: recent counts still grow


@dataclass(frozen=True)
class SourcesConfig:
    sql: SqlOrdersConfig | None = None
    shopify: ShopifyConfig | None = None
    stripe: StripeConfig | None = None
    meta_graph: MetaGraphConfig | None = None
    http: HttpConfig = field(default_factory=HttpConfig)

    @property
    def orders_source(self) -> str | None:
        """`sql`, `shopify` or `stripe`: where orders come from besides files, if anywhere."""
        return next((n for n in ("sql", "shopify", "stripe") if getattr(self, n) is not None), None)

    @property
    def configured(self) -> bool:
        return self.orders_source is not None or self.meta_graph is not None


@dataclass(frozen=True)
class ReportExport:
    """A platform's own export (TikTok or Snap Events Manager CSV) in its own column names."""

    files: tuple[str, ...]
    platform: str
    columns: dict[str, str]  # report column (REPORT_COLUMNS) -> the export's header
    pixel_id: str | None = None  # for exports without a pixel column
    date_format: str | None = None  # strptime format of the date column; None: YYYY-MM-DD


@dataclass(frozen=True)
class PlatformReportsConfig:
    exports: tuple[ReportExport, ...] = ()


@dataclass(frozen=True)
class Config:
    warehouse: Path  # the DuckDB file; for another target, the folder of its local state is its parent
    inputs: InputsConfig = field(default_factory=InputsConfig)
    orders: OrdersConfig = field(default_factory=OrdersConfig)
    audit: dict[str, Any] = field(default_factory=dict)  # overrides of dbt vars
    sources: SourcesConfig = field(default_factory=SourcesConfig)
    platform_reports: PlatformReportsConfig = field(default_factory=PlatformReportsConfig)
    target: str = "duckdb"  # one of TARGETS
    # the Spark target's lake folder (`spark_lake:`); None: $SIGNAL_AUDIT_RAW_LAKE, else <spark dir>/lake
    spark_lake: Path | None = None

    @property
    def has_inputs(self) -> bool:
        """Anything to load: input files, report exports, or a database or API source."""
        return not self.inputs.empty or bool(self.platform_reports.exports) or self.sources.configured


def default_audit_settings() -> dict[str, Any]:
    """The defaults as written in dbt_project.yml `vars:`."""
    with open(PROJECT_DIR / "dbt_project.yml", encoding="utf-8") as fh:
        return dict(yaml.safe_load(fh)["vars"])


def known_platforms() -> tuple[str, ...]:
    """The platforms the project can audit: the rows of seeds/platforms.csv, in its order."""
    with open(PROJECT_DIR / "seeds" / "platforms.csv", encoding="utf-8", newline="") as fh:
        return tuple(name for row in csv.DictReader(fh) if (name := (row["platform"] or "").strip()))


_FRACTIONS = (
    "gap_threshold", "gap_severe_threshold", "email_coverage_min", "field_validity_pass",
    "field_validity_floor", "dedup_rate_pass", "dedup_rate_floor", "timeliness_pass",
    "timeliness_floor", "max_rejected_share",
)
_SCORES = ("match_quality_pass", "match_quality_floor")
# whole numbers, their smallest and largest sensible values: beyond these the dates and
# intervals dbt computes from them leave the range databases hold, and no audit means them
_WHOLE_NUMBERS = {
    "audit_window_days": (1, 3660, "3660 (ten years)"),
    "dedup_window_hours": (1, 8784, "8784 (a year)"),
    "latency_threshold_seconds": (1, 31_622_400, "31622400 (a year)"),
    "max_load_age_hours": (1, 87_840, "87840 (ten years)"),
    "pii_plaintext_events_max": (0, 1_000_000_000, "1000000000"),
}
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def validate_audit_settings(overrides: dict[str, Any]) -> dict[str, Any]:
    """Check overrides against the known settings: every type and range, and that every
    platform named is one the seeds know. Returns them ready for dbt's --vars (a date that
    YAML read as a date becomes its YYYY-MM-DD text)."""
    defaults = default_audit_settings()
    checked = dict(overrides)
    for key, value in overrides.items():
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise ConfigError(f"unknown audit setting '{key}' (known settings: {known})")
        if key in _FRACTIONS and not _is_number_between(value, 0, 1):
            raise ConfigError(f"audit setting '{key}' must be a fraction between 0 and 1, got {value!r}")
        if key in _SCORES and not _is_number_between(value, 0, 10):
            raise ConfigError(f"audit setting '{key}' must be a score between 0 and 10, got {value!r}")
        if key in _WHOLE_NUMBERS:
            lowest, highest, spelled = _WHOLE_NUMBERS[key]
            if not (isinstance(value, int) and not isinstance(value, bool) and lowest <= value <= highest):
                raise ConfigError(f"audit setting '{key}' must be a whole number from {lowest} to {spelled}, "
                                  f"got {value!r}")
        if key == "reporting_timezone":
            checked[key] = _timezone(value, "audit setting 'reporting_timezone'")
        if key == "audit_end_date" and value is not None:
            checked[key] = _iso_date(value, "audit setting 'audit_end_date'")
        if key == "counted_statuses":
            _names(value, key)
        if key == "platforms":
            _platforms(value)
    merged = {**defaults, **checked}
    for low, high in (("gap_threshold", "gap_severe_threshold"),
                      ("match_quality_floor", "match_quality_pass"),
                      ("field_validity_floor", "field_validity_pass"),
                      ("dedup_rate_floor", "dedup_rate_pass"),
                      ("timeliness_floor", "timeliness_pass")):
        if merged[low] > merged[high]:
            raise ConfigError(f"audit setting '{low}' ({merged[low]}) must not exceed '{high}' ({merged[high]})")
    return checked


def _is_number_between(value: Any, low: float, high: float) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool) and not math.isnan(value)
            and low <= value <= high)


def _timezone(value: Any, what: str) -> str:
    try:
        if not isinstance(value, str) or not value.strip():
            raise ValueError
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"{what} {value!r} is not an IANA time zone name, such as Europe/Berlin") from None
    return value


def _iso_date(value: Any, what: str) -> str:
    """Strictly YYYY-MM-DD: Python would also take 20261001, which the databases refuse."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value.isoformat()  # YAML reads an unquoted 2026-10-01 as a date
    text = value if isinstance(value, str) else ""
    try:
        if not _ISO_DATE.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text).isoformat()
    except ValueError:
        raise ConfigError(f"{what} must be a date written YYYY-MM-DD, such as 2026-10-31, got {value!r}") from None


def _names(value: Any, key: str) -> list[str]:
    if not (isinstance(value, list) and value and all(isinstance(v, str) and v.strip() for v in value)):
        raise ConfigError(f"audit setting '{key}' must be a non-empty list of names, got {value!r}")
    if len(set(value)) != len(value):
        raise ConfigError(f"audit setting '{key}' names one value twice: {value!r}")
    return value


def _platforms(value: Any) -> None:
    known = known_platforms()
    unknown = [p for p in _names(value, "platforms") if p not in known]
    if unknown:
        raise ConfigError(f"audit setting 'platforms' names unknown platform(s) {', '.join(map(repr, unknown))}; "
                          f"known: {', '.join(known)} (seeds/platforms.csv)")


def _as_paths(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) and value.strip():
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        return tuple(value)
    where = name if "." in name else f"inputs.{name}"
    raise ConfigError(f"{where} must be a path, a glob or a list of them")


def _column_map(value: Any, where: str, known: tuple[str, ...], what: str) -> dict[str, str]:
    """`{contract name: the file's header}`; headers may be numbers in YAML (a column named 2)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must map {what}s to your file's column names")
    bad = set(map(str, value)) - set(known)
    if bad:
        raise ConfigError(f"{where} maps unknown {what}(s) {', '.join(sorted(bad))}; known: {', '.join(known)}")
    for key, header in value.items():
        try:
            _text_value(header)
        except ValueError:
            raise ConfigError(f"{where}.{key} must name a column of your file, got {header!r}") from None
    return {str(k): str(v) for k, v in value.items()}


def load_config(path: Path | None = None, warehouse: Path | None = None, target: str | None = None) -> Config:
    """Read `path` (or nothing: all defaults). `warehouse` and `target` override the file and
    the env vars."""
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
    unknown = set(raw) - {"warehouse", "target", "inputs", "orders", "audit", "sources", "platform_reports",
                          "spark_lake"}
    if unknown:
        raise ConfigError(f"unknown section(s) in {path}: {', '.join(sorted(unknown))}")

    inputs_raw = _mapping(raw.get("inputs") or {}, "inputs", ("orders", "delivery_log", "platform_reports"))
    inputs = InputsConfig(
        orders=_resolve(_as_paths(inputs_raw.get("orders"), "orders"), base),
        delivery_log=_resolve(_as_paths(inputs_raw.get("delivery_log"), "delivery_log"), base),
        platform_reports=_resolve(_as_paths(inputs_raw.get("platform_reports"), "platform_reports"), base),
    )

    orders_raw = _mapping(raw.get("orders") or {}, "orders", ("columns", "naive_timezone", "default_phone_region"))
    columns = _column_map(orders_raw.get("columns"), "orders.columns", ORDER_COLUMNS, "contract column")
    region = orders_raw.get("default_phone_region")
    if region is not None and not (isinstance(region, str) and re.fullmatch(r"[A-Za-z]{2}", region.strip())):
        raise ConfigError(f"orders.default_phone_region must be a two-letter country code such as DE, got {region!r}")
    orders = OrdersConfig(
        columns=columns,
        naive_timezone=_timezone(orders_raw.get("naive_timezone", "UTC"), "orders.naive_timezone"),
        default_phone_region=region.strip().upper() if region is not None else None,
    )

    audit_raw = raw.get("audit") or {}
    if not isinstance(audit_raw, dict):
        raise ConfigError("audit must be a mapping of settings")
    audit = validate_audit_settings(audit_raw)
    sources = parse_sources(raw.get("sources"))
    platform_reports = parse_platform_reports(raw.get("platform_reports"), base)

    named = raw.get("warehouse")
    if named is not None and not (isinstance(named, str) and named.strip()):
        raise ConfigError(f"warehouse must be the path of a .duckdb file, got {named!r}")
    if warehouse is None:
        if named:
            warehouse = base / named
        elif os.environ.get(WAREHOUSE_ENV):
            warehouse = Path(os.environ[WAREHOUSE_ENV])
        else:
            warehouse = DEFAULT_WAREHOUSE
    lake = raw.get("spark_lake")
    if lake is not None and not (isinstance(lake, str) and lake.strip()):
        raise ConfigError(f"spark_lake must be the path of a folder, got {lake!r}")
    target = target or raw.get("target") or os.environ.get(TARGET_ENV) or "duckdb"
    if target not in TARGETS:
        raise ConfigError(f"unknown target {target!r}; choose from {', '.join(TARGETS)}")
    return Config(warehouse=warehouse.resolve(), inputs=inputs, orders=orders, audit=audit,
                  sources=sources, platform_reports=platform_reports, target=target,
                  spark_lake=(base / lake).resolve() if lake else None)


def parse_sources(raw: Any) -> SourcesConfig:
    if raw is None:
        return SourcesConfig()
    section = _mapping(raw, "sources", ("orders", "meta_graph", "http"))
    _refuse_secrets(section, "sources")

    orders = _mapping(section.get("orders") or {}, "sources.orders", ("sql", "shopify", "stripe"))
    chosen = [name for name in ("sql", "shopify", "stripe") if orders.get(name) is not None]
    if len(chosen) > 1:
        raise ConfigError(
            f"sources.orders names {' and '.join(chosen)}: choose one system orders come from "
            "(files in inputs.orders can be added to it)"
        )
    sql = shopify = stripe = None
    if orders.get("sql") is not None:
        sql = _sql_config(_mapping(orders["sql"], "sources.orders.sql", (
            "url", "table", "schema", "updated_at_column", "initial_updated_at", "chunk_size")))
    if orders.get("shopify") is not None:
        shopify = _shopify_config(_mapping(orders["shopify"], "sources.orders.shopify", (
            "shop_url", "api_version", "order_id", "updated_at_min", "sales_channels", "page_size")))
    if orders.get("stripe") is not None:
        stripe = _stripe_config(_mapping(orders["stripe"], "sources.orders.stripe", (
            "base_url", "object", "order_id", "created_gte", "refund_lookback_days", "page_size")))
    meta = None
    if section.get("meta_graph") is not None:
        meta = _meta_config(_mapping(section["meta_graph"], "sources.meta_graph", (
            "pixel_ids", "api_version", "base_url", "dataset_quality", "pixel_stats",
            "pixel_stats_days", "pixel_stats_refetch_hours")))
    http = _mapping(section.get("http") or {}, "sources.http",
                    ("max_attempts", "backoff_factor", "max_retry_delay", "timeout"))
    http_config = HttpConfig(
        max_attempts=_optional(http, "max_attempts", "sources.http", _positive_int),
        backoff_factor=_optional(http, "backoff_factor", "sources.http", _non_negative),
        max_retry_delay=_optional(http, "max_retry_delay", "sources.http", _non_negative),
        timeout=_optional(http, "timeout", "sources.http", _positive),
    )
    return SourcesConfig(sql=sql, shopify=shopify, stripe=stripe, meta_graph=meta, http=http_config)


def _sql_config(raw: dict[str, Any]) -> SqlOrdersConfig:
    where = "sources.orders.sql"
    url = _required_text(raw, "url", where)
    try:
        from sqlalchemy.engine import make_url

        parsed = make_url(url)
    except Exception as exc:  # sqlalchemy raises ArgumentError, and ValueError on bad ports
        raise ConfigError(f"{where}.url is not a SQLAlchemy database URL ({exc})") from None
    if parsed.password:
        raise ConfigError(
            f"{where}.url holds a password: secrets do not belong in signal_audit.yml. Remove it "
            f"from the URL and set {secret_env_var('sql')} (or `password` under [sources.sql_orders] "
            "in .dlt/secrets.toml)"
        )
    initial = raw.get("initial_updated_at")
    if initial is not None:
        initial = _timestamp_text(initial, f"{where}.initial_updated_at")
    return SqlOrdersConfig(
        url=url,
        table=_required_text(raw, "table", where),
        updated_at_column=_required_text(raw, "updated_at_column", where),
        schema=_optional(raw, "schema", where, _text_value),
        initial_updated_at=initial,
        chunk_size=_optional(raw, "chunk_size", where, _positive_int) or 50_000,
    )


_SALES_CHANNELS = ("web", "app", "pos", "phone", "marketplace", "other")


def _shopify_config(raw: dict[str, Any]) -> ShopifyConfig:
    where = "sources.orders.shopify"
    shop_url = _http_url(_required_text(raw, "shop_url", where), f"{where}.shop_url")
    order_id = _optional(raw, "order_id", where, _text_value) or "id"
    if order_id not in ("id", "name", "order_number"):
        raise ConfigError(f"{where}.order_id must be id, name or order_number, got {order_id!r}")
    channels = raw.get("sales_channels") or {}
    if not isinstance(channels, dict) or any(v not in _SALES_CHANNELS for v in channels.values()):
        raise ConfigError(
            f"{where}.sales_channels maps Shopify source names to one of {', '.join(_SALES_CHANNELS)}"
        )
    updated_at_min = raw.get("updated_at_min")
    return ShopifyConfig(
        shop_url=shop_url,
        api_version=_optional(raw, "api_version", where, _text_value) or "2024-10",
        order_id=order_id,
        updated_at_min=None if updated_at_min is None
        else _timestamp_text(updated_at_min, f"{where}.updated_at_min"),
        sales_channels={str(k): str(v) for k, v in channels.items()},
        page_size=_at_most(_optional(raw, "page_size", where, _positive_int) or 250, 250, f"{where}.page_size"),
    )


def _stripe_config(raw: dict[str, Any]) -> StripeConfig:
    where = "sources.orders.stripe"
    obj = _optional(raw, "object", where, _text_value) or "charges"
    if obj != "charges":
        raise ConfigError(f"{where}.object: only charges are supported, got {obj!r}")
    order_id = _optional(raw, "order_id", where, _text_value) or "id"
    if order_id not in ("id", "payment_intent") and not (
        order_id.startswith("metadata.") and len(order_id) > len("metadata.")
    ):
        raise ConfigError(f"{where}.order_id must be id, payment_intent or metadata.<key>, got {order_id!r}")
    created = raw.get("created_gte")
    lookback = raw.get("refund_lookback_days", 7)
    if not (isinstance(lookback, int) and not isinstance(lookback, bool) and lookback >= 0):
        raise ConfigError(f"{where}.refund_lookback_days must be a whole number of days (0 or more)")
    return StripeConfig(
        base_url=_http_url(_optional(raw, "base_url", where, _text_value) or "https://api.stripe.com",
                           f"{where}.base_url"),
        object=obj,
        order_id=order_id,
        created_gte=None if created is None else _timestamp_text(created, f"{where}.created_gte"),
        refund_lookback_days=lookback,
        page_size=min(_optional(raw, "page_size", where, _positive_int) or 100, 100),
    )


def _meta_config(raw: dict[str, Any]) -> MetaGraphConfig:
    where = "sources.meta_graph"
    pixel_ids = raw.get("pixel_ids")
    if isinstance(pixel_ids, str | int) and not isinstance(pixel_ids, bool):
        pixel_ids = [pixel_ids]
    if not (isinstance(pixel_ids, list) and pixel_ids
            and all(isinstance(p, str | int) and not isinstance(p, bool) and str(p).strip() for p in pixel_ids)):
        raise ConfigError(f"{where}.pixel_ids must list the pixel (dataset) ids to read, e.g. ['1234567890']")
    version = _optional(raw, "api_version", where, _text_value) or "v21.0"
    if not version.startswith("v"):
        raise ConfigError(f"{where}.api_version looks like v21.0, got {version!r}")
    flags = {}
    for name in ("dataset_quality", "pixel_stats"):
        value = raw.get(name, True)
        if not isinstance(value, bool):
            raise ConfigError(f"{where}.{name} must be true or false")
        flags[name] = value
    return MetaGraphConfig(
        pixel_ids=tuple(str(p).strip() for p in pixel_ids),
        api_version=version,
        base_url=_http_url(_optional(raw, "base_url", where, _text_value) or "https://graph.facebook.com",
                           f"{where}.base_url"),
        pixel_stats_days=_optional(raw, "pixel_stats_days", where, _positive_int) or 7,
        pixel_stats_refetch_hours=_optional(raw, "pixel_stats_refetch_hours", where, _positive_int) or 24,
        **flags,
    )


def parse_platform_reports(raw: Any, base: Path) -> PlatformReportsConfig:
    if raw is None:
        return PlatformReportsConfig()
    section = _mapping(raw, "platform_reports", ("exports",))
    exports = section.get("exports") or []
    if not isinstance(exports, list):
        raise ConfigError("platform_reports.exports must be a list of exports (files, platform, columns)")
    parsed = []
    for i, item in enumerate(exports):
        where = f"platform_reports.exports[{i}]"
        export = _mapping(item, where, ("files", "platform", "pixel_id", "columns", "date_format"))
        columns = _column_map(export.get("columns") or {}, f"{where}.columns", REPORT_COLUMNS, "report column")
        missing = [c for c in REQUIRED_REPORT_COLUMNS if c not in columns]
        if missing:
            raise ConfigError(f"{where}.columns must name the export's column for {', '.join(missing)}")
        # (a platform the seeds do not know is refused by the loader, before it reads anything)
        platform = _required_text(export, "platform", where).lower()
        parsed.append(ReportExport(
            files=_resolve(_as_paths(export.get("files"), f"{where}.files"), base),
            platform=platform,
            columns=columns,
            pixel_id=_optional(export, "pixel_id", where, _text_value),
            date_format=_optional(export, "date_format", where, _text_value),
        ))
        if not parsed[-1].files:
            raise ConfigError(f"{where}.files must name the export files (a path, a glob or a list)")
    return PlatformReportsConfig(exports=tuple(parsed))


def _refuse_secrets(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in _SECRET_KEYS:
                source = where.rsplit(".", 1)[-1]
                hint = (f"set {secret_env_var(source)} or put it in .dlt/secrets.toml" if source in SECRETS
                        else "use environment variables or .dlt/secrets.toml")
                raise ConfigError(
                    f"{where}.{key}: secrets do not belong in signal_audit.yml; {hint}"
                )
            _refuse_secrets(item, f"{where}.{key}")


def _mapping(value: Any, where: str, known: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be a mapping of settings")
    unknown = set(value) - set(known)
    if unknown:
        raise ConfigError(f"unknown setting(s) in {where}: {', '.join(sorted(map(str, unknown)))} "
                          f"(known: {', '.join(known)})")
    return value


def _text_value(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float) or not str(value).strip():
        raise ValueError("must be a text value")
    return str(value).strip()


def _required_text(raw: dict[str, Any], key: str, where: str) -> str:
    if raw.get(key) is None:
        raise ConfigError(f"{where}.{key} is required")
    return _optional(raw, key, where, _text_value)  # type: ignore[return-value]


def _positive_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError("must be a whole number above 0")
    return value


def _at_most(value: int, highest: int, where: str) -> int:
    if value > highest:
        raise ConfigError(f"{where} must be at most {highest} (the API's largest page), got {value!r}")
    return value


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ValueError("must be a number above 0")
    return float(value)


def _non_negative(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError("must be a number, 0 or more")
    return float(value)


def _optional(raw: dict[str, Any], key: str, where: str, parse: Any) -> Any:
    if raw.get(key) is None:
        return None
    try:
        return parse(raw[key])
    except ValueError as exc:
        raise ConfigError(f"{where}.{key} {exc}, got {raw[key]!r}") from None


def _timestamp_text(value: Any, where: str) -> str:
    """An ISO date or timestamp (YAML may have parsed it already) as UTC ISO text."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time())
    else:
        try:
            parsed = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise ConfigError(f"{where} must be an ISO date or timestamp, got {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    except OverflowError:  # 9999-12-31T23:59:59-05:00 is past the last UTC instant Python holds
        raise ConfigError(f"{where} is out of range, got {value!r}") from None


def _http_url(value: str, where: str) -> str:
    url = value.rstrip("/")
    if "://" not in url:
        url = "https://" + url
    if not url.startswith(("http://", "https://")):
        raise ConfigError(f"{where} must be an http(s) URL, got {value!r}")
    return url


def _resolve(patterns: tuple[str, ...], base: Path) -> tuple[str, ...]:
    return tuple(p if Path(p).is_absolute() else str(base / p) for p in patterns)
