"""Backend order records read, validated and hashed into raw.orders rows, in any process.

Files are CSV, Parquet or JSON Lines exports in the user's column names. Customer PII is
normalized and SHA-256 hashed here, in Python, so that plaintext never reaches dlt, its load
packages or the warehouse; only the `*_sha256` columns are written. pipelines/orders.py hands
large inputs to worker processes one file per task (pipelines/spill.py), so this module imports
no dlt; database and API sources use `parse_order` and `to_row` too (sources/orders_sink.py).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.files import InputError, csv_records, is_gzip, numbered_lines
from pipelines.rejects import CHUNK_ROWS, Parsed, Position, Rejected, quote
from pipelines.spill import Spilled, SpillWriter
from pipelines.tables import (
    BOOL,
    DOUBLE,
    INT64,
    SOURCE_COLUMNS,
    TEXT,
    TIMESTAMPTZ,
    Column,
    Table,
)
from signal_audit import pii
from signal_audit.config import ORDER_COLUMNS, REQUIRED_ORDER_COLUMNS, OrdersConfig

log = logging.getLogger(__name__)

ORDERS = Table(
    "orders",
    primary_key=("order_id",),
    columns=(
        Column("order_id", TEXT, nullable=False),
        Column("created_at", TIMESTAMPTZ, nullable=False),
        Column("status", TEXT, nullable=False),
        Column("total_value", DOUBLE, nullable=False),
        Column("currency", TEXT, nullable=False),
        Column("sales_channel", TEXT, nullable=False),
        Column("checkout_type", TEXT),
        Column("customer_id", TEXT),
        Column("email_sha256", TEXT),
        Column("phone_sha256", TEXT),
        Column("phone_e164_sha256", TEXT),
        Column("first_name_sha256", TEXT),
        Column("last_name_sha256", TEXT),
        Column("city_sha256", TEXT),
        Column("state_sha256", TEXT),
        Column("zip_sha256", TEXT),
        Column("country_sha256", TEXT),
        Column("marketing_consent", BOOL),
        Column("is_test", BOOL, nullable=False),
        SOURCE_COLUMNS[0],
        # Files never hold an order twice in one load (pipelines/orders.py); a database or API read
        # can, when an order changes while it is paged through: the later read wins.
        Column("_source_line", INT64, nullable=False, dedup_sort="desc"),
    ),
)

PII_COLUMNS = ("email", "phone", "first_name", "last_name", "city", "state", "zip", "country")

# Suffixes (after an optional .gz) that tell the format; Parquet compresses itself.
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_UTC = dt.UTC


class Order(NamedTuple):
    """A valid order before hashing; `record` holds plaintext PII and must never be written.

    A NamedTuple, not a frozen dataclass: one is built per record, and a dataclass takes three
    times as long (a second of a million-order load).
    """

    order_id: str
    created_at: dt.datetime
    status: str
    total_value: float
    currency: str
    sales_channel: str
    checkout_type: str | None
    customer_id: str | None
    marketing_consent: bool | None
    is_test: bool
    record: Mapping[str, Any]  # the record as read, for its PII (`to_row` hashes it)


def file_format(path: Path) -> str:
    """`csv`, `jsonl` or `parquet`, from the file name; anything else is an input error."""
    name = path.name.lower().removesuffix(".gz")
    fmt = _FORMATS.get(Path(name).suffix)
    if fmt is None or (fmt == "parquet" and is_gzip(path)):
        raise InputError(
            f"orders: cannot tell the format of {path} from its name "
            "(expected .csv, .csv.gz, .parquet, .jsonl, .jsonl.gz, .ndjson or .ndjson.gz)"
        )
    return fmt


def parse_file(path: Path, spill: Path, config: OrdersConfig) -> Spilled:
    """Every record of `path` as its raw.orders row (PII hashed), or rejected, in file order."""
    tz = ZoneInfo(config.naive_timezone)
    records = _READERS[file_format(path)](path, config)
    with SpillWriter(path, spill, ORDERS) as out:
        for line, values in records:
            if isinstance(values, str):
                out.reject(line, values)
                continue
            parsed = parse_order(values, Position(str(path), line), tz)
            if isinstance(parsed, Rejected):
                out.reject(line, parsed.reason)
            else:
                out.row(to_row(parsed, config.default_phone_region))
    return out.spilled


def to_row(parsed: Parsed[Order], default_phone_region: str | None) -> tuple[Any, ...]:
    """The raw.orders row: plaintext PII in, hashes out (normalization per signal_audit.pii)."""
    order = parsed.value
    p = {name: _text(order.record.get(name)) for name in PII_COLUMNS}
    country = p["country"]
    # A number written without its country code is read in the order's country, when that is
    # a usable ISO alpha-2 code ("United States" is not), else in the configured default.
    usable = country is not None and len(country) == 2 and country.isalpha()
    region = country if usable else default_phone_region
    phone_sha256, phone_e164_sha256 = pii.phone_sha256(p["phone"], region)
    return (
        order.order_id,
        order.created_at,
        order.status,
        order.total_value,
        order.currency,
        order.sales_channel,
        order.checkout_type,
        order.customer_id,
        pii.email_sha256(p["email"]),
        phone_sha256,
        phone_e164_sha256,
        pii.name_sha256(p["first_name"]),
        pii.name_sha256(p["last_name"]),
        pii.city_sha256(p["city"]),
        pii.state_sha256(p["state"]),
        pii.zip_sha256(p["zip"], country),
        pii.country_sha256(country),
        order.marketing_consent,
        order.is_test,
        parsed.position.file,
        parsed.position.line,
    )


def parse_order(
    values: Mapping[str, Any], position: Position, tz: ZoneInfo
) -> Parsed[Order] | Rejected:
    """Validate one record (contract column -> value, absent columns left out).

    The first problem found is the reject reason.
    """
    order_id = _text(values.get("order_id"))
    if order_id is None:
        return Rejected(position, "missing order_id")
    if _text(values.get("created_at")) is None:
        return Rejected(position, "missing created_at")
    created_at = _timestamp(values.get("created_at"), tz)
    if created_at is None:
        reason = f"created_at {quote(values.get('created_at'))} is not a timestamp"
        return Rejected(position, reason)
    status = _text(values.get("status"))
    if status is None:
        return Rejected(position, "missing status")
    if _text(values.get("total_value")) is None:
        return Rejected(position, "missing total_value")
    total_value = _number(values.get("total_value"))
    if total_value is None:
        return Rejected(position, f"total_value {quote(values.get('total_value'))} is not a number")
    currency = _text(values.get("currency"))
    if currency is None:
        return Rejected(position, "missing currency")
    checkout_type = (_text(values.get("checkout_type")) or "").lower()
    order = Order(
        order_id=order_id,
        created_at=created_at,
        status=status.lower(),
        total_value=total_value,
        currency=currency.upper(),
        sales_channel=(_text(values.get("sales_channel")) or "web").lower(),
        checkout_type=checkout_type if checkout_type in ("guest", "account") else None,
        customer_id=_text(values.get("customer_id")),
        marketing_consent=_flag(values.get("marketing_consent")),
        is_test=bool(_flag(values.get("is_test"))),
        record=values,
    )
    return Parsed(position, order_id, order)


# --- readers: (line or record number, contract column -> value) or a reject reason ---------

Record = tuple[int, dict[str, Any] | str]


def _csv_records(path: Path, config: OrdersConfig) -> Iterator[Record]:
    return csv_records(path, lambda header: _source_columns(path, header, config))


def _jsonl_records(path: Path, config: OrdersConfig) -> Iterator[Record]:
    columns = {name: config.source_column(name) for name in ORDER_COLUMNS}
    keys_seen: set[str] = set()
    for line, text in numbered_lines(path):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except ValueError as exc:
            yield line, f"malformed JSON: {getattr(exc, 'msg', exc)}"
            continue
        if not isinstance(obj, dict):
            yield line, "not a JSON object"
            continue
        keys_seen.update(obj)
        yield line, {name: obj.get(column) for name, column in columns.items()}
    # JSON Lines has no header: a required column that no line of the file carries is a
    # mapping mistake, reported as such rather than as one reject per line. Every file is
    # read before the first row is written (pipelines/orders.py), so nothing is loaded yet.
    if keys_seen:
        _source_columns(path, sorted(keys_seen), config)


def _parquet_records(path: Path, config: OrdersConfig) -> Iterator[Record]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise InputError(f"{path} is not a readable Parquet file ({exc})") from None
    columns = _source_columns(path, parquet.schema_arrow.names, config)
    record = 0
    for batch in parquet.iter_batches(batch_size=CHUNK_ROWS, columns=sorted(set(columns.values()))):
        for values in batch.to_pylist():
            record += 1
            yield record, {name: values[column] for name, column in columns.items()}


_READERS = {"csv": _csv_records, "jsonl": _jsonl_records, "parquet": _parquet_records}


def _source_columns(path: Path, available: Sequence[str], config: OrdersConfig) -> dict[str, str]:
    """Contract column -> the file's column, for the contract columns the file has.

    A required column missing from the file is a configuration mistake (a wrong mapping or the
    wrong file), so it stops the load with the columns the file does have, instead of
    rejecting every row.
    """
    present = set(available)
    columns = {name: config.source_column(name) for name in ORDER_COLUMNS}
    missing = [name for name in REQUIRED_ORDER_COLUMNS if columns[name] not in present]
    if missing:
        wanted = ", ".join(
            f"'{columns[n]}' (for {n})" if columns[n] != n else f"'{n}'" for n in missing
        )
        raise InputError(
            f"orders file {path} has no column {wanted}; its columns are: "
            f"{', '.join(available)}. Map your column names to the contract's in "
            "orders.columns of signal_audit.yml."
        )
    absent = sorted(n for n in config.columns if n in columns and columns[n] not in present)
    if absent:
        log.warning("orders file %s lacks the mapped column(s) %s; they load as null",
                    path, ", ".join(f"'{columns[n]}' (for {n})" for n in absent))
    return {name: column for name, column in columns.items() if column in present}


# --- value parsing ------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    """Trimmed text, None when empty; whole floats lose their `.0` (ids read as floats)."""
    if isinstance(value, str):
        return value.strip() or None
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() or None


def _timestamp(value: Any, tz: ZoneInfo) -> dt.datetime | None:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return value.astimezone(_UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float | Decimal):
        number = float(value)
    else:
        try:
            number = float(str(value).strip())
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    return True if text in _TRUE else False if text in _FALSE else None
