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
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.files import InputError, csv_records, is_gzip, numbered_lines
from pipelines.rejects import (
    CHUNK_ROWS,
    Parsed,
    Position,
    Rejected,
    RejectSummary,
    is_personal,
    may_be_personal,
    names,
    quote,
)
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
from signal_audit_core import pii
from signal_audit_core.config import ORDER_COLUMNS, REQUIRED_ORDER_COLUMNS, OrdersConfig

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
# Fields an order's first row carries and its line-item rows leave blank (Shopify's export).
ORDER_LEVEL = ("status", "total_value", "currency")

# Suffixes (after an optional .gz) that tell the format; Parquet compresses itself.
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})
_UTC = dt.UTC
# Orders placed outside these years are a wrong column or a placeholder (`9999-12-31`), and
# would move the audit window (it ends on the latest order) to a day no one means.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=_UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=_UTC)
# An order total beyond this is no amount of money but a wrong column or an overflow; sums of
# millions of orders stay exact in a double (and finite on every engine) below it.
MAX_TOTAL = 1e12


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


@dataclass(frozen=True)
class OrdersSpilled(Spilled):
    line_items: int = 0  # rows folded into the order before them (`continuation`)


def parse_file(path: Path, spill: Path, config: OrdersConfig) -> OrdersSpilled:
    """Every record of `path` as its raw.orders row (PII hashed), or rejected, in file order;
    line-item rows folded into their order.

    Raises InputError when the file has rows and every one of them was rejected: that is a
    column mapped to the wrong field (or the wrong file), not thousands of bad orders.
    """
    tz = ZoneInfo(config.naive_timezone)
    records = _READERS[file_format(path)](path, config)
    summary = RejectSummary()
    loaded = line_items = 0
    previous: tuple[str, int, Order | None] | None = None  # the last order row: id, line, order
    with SpillWriter(path, spill, ORDERS) as out:
        for line, values in records:
            if isinstance(values, str):
                out.reject(line, values)
                summary.note(values)
                continue
            order_id = _text(values.get("order_id"))
            if previous is not None and order_id == previous[0] and _continues(values):
                problem = continuation(values, previous)
                if problem is None:
                    line_items += 1
                else:
                    out.reject(line, problem)
                    summary.note("line-item rows contradicted their order")
                continue
            result = order_row(values, Position(str(path), line), tz, config.default_phone_region)
            if isinstance(result, Rejected):
                out.reject(line, result.reason)
                summary.note(result.reason, values)
                previous = (order_id, line, None) if order_id is not None else None
            else:
                out.row(result[1])
                loaded += 1
                previous = (result[0].order_id, line, result[0])
    if loaded == 0 and line_items == 0 and summary.causes:
        raise InputError(summary.all_rejected(
            f"orders file {path}", "check orders.columns in signal_audit.yml"))
    spilled = out.spilled
    return OrdersSpilled(spilled.path, spilled.rows, spilled.rejects, line_items)


def _continues(values: Mapping[str, Any]) -> bool:
    """Whether a row that repeats its order's id leaves an order-level field blank: a line-item
    row (a row with all of them is a newer copy of the order, and the later copy wins)."""
    return any(_text(values.get(name)) is None for name in ORDER_LEVEL)


def continuation(values: Mapping[str, Any], previous: tuple[str, int, Order | None]) -> str | None:
    """None when a line-item row agrees with its order's row, else the reject reason."""
    order_id, line, order = previous
    if order is None:
        return f"line-item row of order {quote(order_id)}, whose row (line {line}) was rejected"
    mine = {"status": order.status, "total_value": order.total_value, "currency": order.currency}
    for name in ORDER_LEVEL:
        text = _text(values.get(name))
        if text is None:
            continue
        value = {"status": text.lower(), "total_value": _number(text), "currency": text.upper()}[name]
        if value != mine[name]:
            return (f"line-item row of order {quote(order_id)} with another {name} ({quote(text)}) "
                    f"than its order's row on line {line} ({quote(mine[name])})")
    return None


def order_row(
    values: Mapping[str, Any], position: Position, tz: ZoneInfo, default_phone_region: str | None
) -> tuple[Order, tuple[Any, ...]] | Rejected:
    """The valid order and its raw.orders row (PII hashed), or why the record is rejected.

    No value stops a load: one that fails in a way not foreseen below (an overflow in a
    library, text Python cannot encode) rejects its record with the kind of failure.
    """
    try:
        parsed = parse_order(values, position, tz)
        if isinstance(parsed, Rejected):
            return parsed
        return parsed.value, to_row(parsed, default_phone_region)
    except (ArithmeticError, ValueError, TypeError, LookupError, RecursionError, UnicodeError) as exc:
        return Rejected(position, f"unreadable record ({type(exc).__name__})")


def to_row(parsed: Parsed[Order], default_phone_region: str | None) -> tuple[Any, ...]:
    """The raw.orders row: plaintext PII in, hashes out (normalization per signal_audit_core.pii)."""
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

    The first problem found is the reject reason. A reason quotes a value only of a field that
    holds no customer data, and not even then when it reads as an e-mail address or a phone
    number (`rejects.quote`). Those never land in the plain-text fields either: such a value
    there is a column mapped to the wrong field.
    """
    def reject(reason: str) -> Rejected:
        return Rejected(position, reason)

    order_id = _text(values.get("order_id"))
    if order_id is None:
        return reject("missing order_id")
    if may_be_personal(order_id, strict=True) and is_personal(order_id, strict=True):
        return reject(f"order_id {quote(order_id)} is customer data, not an order id")
    if _text(values.get("created_at")) is None:
        return reject("missing created_at")
    created_at = _timestamp(values.get("created_at"), tz)
    if created_at is None:
        return reject(f"created_at {quote(values.get('created_at'))} is not a timestamp")
    if not EARLIEST <= created_at < LATEST:
        return reject(f"created_at {quote(values.get('created_at'))} is outside the years "
                      f"{EARLIEST.year}-{LATEST.year - 1}")
    status = _text(values.get("status"))
    if status is None:
        return reject("missing status")
    if _text(values.get("total_value")) is None:
        return reject("missing total_value")
    total_value = _number(values.get("total_value"))
    if total_value is None:
        return reject(f"total_value {quote(values.get('total_value'))} is not a number")
    if abs(total_value) > MAX_TOTAL:
        return reject(f"total_value {quote(values.get('total_value'))} is out of range (beyond {MAX_TOTAL:,.0f})")
    currency = _text(values.get("currency"))
    if currency is None:
        return reject("missing currency")
    sales_channel = _text(values.get("sales_channel"))
    if may_be_personal(f"{status} {currency} {sales_channel}"):
        for name, value in (("status", status), ("currency", currency), ("sales_channel", sales_channel)):
            if is_personal(value):
                return reject(f"{name} {quote(value)} is customer data, not a {name.replace('_', ' ')}")
    checkout_type = (_text(values.get("checkout_type")) or "").lower()
    customer_id = _text(values.get("customer_id"))
    if customer_id is not None and may_be_personal(customer_id, strict=True) and is_personal(customer_id, strict=True):
        customer_id = None  # a shop that keys customers by e-mail or phone: not kept
    order = Order(
        order_id=order_id,
        created_at=created_at,
        status=status.lower(),
        total_value=total_value,
        currency=currency.upper(),
        sales_channel=(sales_channel or "web").lower(),
        checkout_type=checkout_type if checkout_type in ("guest", "account") else None,
        customer_id=customer_id,
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
        except ValueError as exc:  # a number of thousands of digits is no JSONDecodeError
            yield line, f"malformed JSON: {getattr(exc, 'msg', 'a number too long to read')}"
            continue
        except RecursionError:
            yield line, "malformed JSON: nested too deeply"
            continue
        if not isinstance(obj, dict):
            yield line, "not a JSON object"
            continue
        keys_seen.update(obj)
        values = {name: obj.get(column) for name, column in columns.items()}
        nested = next((name for name, value in values.items() if isinstance(value, dict | list)), None)
        if nested is not None:  # an order's fields are single values; nested ones are not read
            yield line, f"{nested} is a JSON {'object' if isinstance(values[nested], dict) else 'array'}, not a value"
            continue
        problem = unencodable(values) if "\\u" in text else None  # only an escape makes one
        yield line, problem or values
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
    batches = parquet.iter_batches(batch_size=CHUNK_ROWS, columns=sorted(set(columns.values())))
    while True:
        try:
            batch = next(batches, None)
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"{path} is not a readable Parquet file after record {record} ({exc})") from None
        if batch is None:
            return
        for values in arrow_records(batch):
            record += 1
            yield record, values if isinstance(values, str) else {
                name: values[column] for name, column in columns.items()}


def arrow_records(batch: pa.RecordBatch | pa.Table) -> list[dict[str, Any] | str]:
    """The records as Python values; a record with a value Python cannot hold (a timestamp
    beyond the year 9999, text that is not UTF-8) as why it cannot be read."""
    try:
        return batch.to_pylist()
    except (pa.ArrowException, ArithmeticError, ValueError, UnicodeError):
        pass
    records: list[dict[str, Any] | str] = []
    for i in range(batch.num_rows):
        record: dict[str, Any] | str = {}
        for column in batch.schema.names:
            try:
                record[column] = batch.column(column)[i].as_py()  # type: ignore[index]
            except (pa.ArrowException, ArithmeticError, ValueError, UnicodeError):
                record = f"column '{column}' holds a value out of range or not readable"
                break
        records.append(record)
    return records


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
            f"{names(available)}. Map your column names to the contract's in "
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
    """In UTC; None when not a timestamp. One that falls outside the years 1-9999 once in UTC
    (`9999-12-31T23:59:59-05:00`) is the first or last representable moment, out of range."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if not isinstance(value, dt.datetime):
        return None
    try:
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(_UTC)
    except (OverflowError, ValueError):
        return (dt.datetime.max if value.year > 1 else dt.datetime.min).replace(tzinfo=_UTC)


def _number(value: Any) -> float | None:
    """A finite float, or None (text that is no number, NaN, infinity, beyond a double)."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value) if isinstance(value, int | float | Decimal) else float(str(value).strip())
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def unencodable(values: Mapping[str, Any]) -> str | None:
    """Why a record read from JSON cannot be loaded when one of its fields holds text that
    cannot be written as UTF-8 (a lone surrogate, which JSON's `\\ud800` escape can produce:
    no hash or table takes it), else None. Text read from CSV or Parquet is always valid."""
    for name, value in values.items():
        if isinstance(value, str) and not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return f"{name} is not valid Unicode text (a lone surrogate escape)"
    return None


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = (_text(value) or "").lower()
    return True if text in _TRUE else False if text in _FALSE else None
