"""Backend order records read, validated and hashed into raw.orders rows, in any process.

Files are CSV, Parquet or JSON Lines exports in the user's column names. A CSV file that
Arrow reads as Python's csv module would is judged column by column (pipelines/order_csv.py);
every other record goes through `parse_order`. Customer PII is normalized and SHA-256 hashed
by column when a batch of rows is made (`orders_batch`, pipelines/order_pii.py), in this
process, so that plaintext never reaches dlt, its load packages, a spill file or the
warehouse; only the `*_sha256` columns are written. pipelines/orders.py hands large inputs to
worker processes one file per task (pipelines/spill.py), so this module imports no dlt;
database and API sources use `valid_order` and `OrderRows` too (sources/orders_sink.py).
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
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines import order_pii
from pipelines.files import InputError, csv_records, is_gzip, numbered_lines
from pipelines.order_pii import PII_COLUMNS
from pipelines.order_pii import text as _text
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
from signal_audit_core.config import ORDER_COLUMNS, REQUIRED_ORDER_COLUMNS, OrdersConfig

if TYPE_CHECKING:
    from pipelines.order_csv import CsvPart

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
    """Every record of `path` as its raw.orders row (PII hashed), or rejected; line-item rows
    folded into their order.

    Raises InputError when the file has rows and every one of them was rejected: that is a
    column mapped to the wrong field (or the wrong file), not thousands of bad orders.
    """
    from pipelines import order_csv  # it builds on this module's rules

    fmt = file_format(path)
    csv_file = order_csv.read(path, config) if fmt == "csv" else None
    with SpillWriter(path, spill, ORDERS) as out:
        reading = _Reading(path, out, config)
        if csv_file is None:
            for line, values in _READERS[fmt](path, config):
                reading.record(line, values)
        else:
            for part in csv_file.parts(reading.tz):
                reading.part(part)
        reading.flush()
    if reading.loaded == 0 and reading.line_items == 0 and reading.summary.causes:
        raise InputError(reading.summary.all_rejected(
            f"orders file {path}", "check orders.columns in signal_audit.yml"))
    spilled = out.spilled
    return OrdersSpilled(spilled.path, spilled.rows, spilled.rejects, reading.line_items)


class _Reading:
    """One order file read in line order: what each record is (an order, a line-item row, a
    reject), with the last order row remembered for the line-item rows after it."""

    def __init__(self, path: Path, out: SpillWriter, config: OrdersConfig) -> None:
        self.path, self.out = path, out
        self.tz = ZoneInfo(config.naive_timezone)
        self.rows = OrderRows(config.default_phone_region)
        self.summary = RejectSummary()
        self.loaded = self.line_items = 0
        self.previous: tuple[str, int, Order | None] | None = None  # the last order row: id, line, order

    def record(self, line: int, values: dict[str, Any] | str) -> None:
        """One record (contract column -> value), or why the reader could not read it."""
        if isinstance(values, str):
            self.out.reject(line, values)
            self.summary.note(values)
            return
        order_id = _text(values.get("order_id"))
        previous = self.previous
        if previous is not None and order_id == previous[0] and _continues(values):
            problem = continuation(values, previous)
            if problem is None:
                self.line_items += 1
            else:
                self.out.reject(line, problem)
                self.summary.note("line-item rows contradicted their order")
            return
        result = valid_order(values, Position(str(self.path), line), self.tz)
        if isinstance(result, Rejected):
            self.out.reject(line, result.reason)
            self.summary.note(result.reason, values)
            self.previous = (order_id, line, None) if order_id is not None else None
            return
        self.rows.add(result)
        self.loaded += 1
        self.previous = (result.value.order_id, line, result.value)
        if len(self.rows) == CHUNK_ROWS:
            self.out.batch(self.rows.batch())

    def part(self, part: CsvPart) -> None:
        """Rows Arrow read and judged: the clean ones written as Arrow converted them, the rest
        given to `record` in line order, each after the order row before it."""
        for line, values, after in part.unjudged():
            if after is not None:
                self.previous = after
            if values is not None:
                self.record(line, values)
        self.previous = part.last_order_row() or self.previous
        clean = part.clean
        kept = pc.sum(clean).as_py() or 0
        if kept:
            fields = {name: pc.filter(values, clean) for name, values in part.fields.items()}
            fields["_source_file"] = pa.array([str(self.path)] * kept, pa.string())
            plaintext = {name: pc.filter(part.table.column(name), clean)
                         for name in PII_COLUMNS if name in part.present}
            self.out.batch(orders_batch(fields, plaintext, kept, self.rows.default_phone_region))
            self.loaded += kept

    def flush(self) -> None:
        if len(self.rows):
            self.out.batch(self.rows.batch())


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


def valid_order(values: Mapping[str, Any], position: Position, tz: ZoneInfo) -> Parsed[Order] | Rejected:
    """The valid order, or why the record is rejected.

    No value stops a load: one that fails in a way not foreseen below (an overflow in a
    library, text Python cannot encode) rejects its record with the kind of failure.
    """
    try:
        return parse_order(values, position, tz)
    except (ArithmeticError, ValueError, TypeError, LookupError, RecursionError, UnicodeError) as exc:
        return Rejected(position, f"unreadable record ({type(exc).__name__})")


class OrderRows:
    """Valid orders gathered into raw.orders batches; PII hashed by column when a batch is made
    (pipelines/order_pii.py), so each distinct value is normalized and hashed once per batch."""

    def __init__(self, default_phone_region: str | None) -> None:
        self.default_phone_region = default_phone_region
        self._orders: list[Parsed[Order]] = []

    def add(self, parsed: Parsed[Order]) -> None:
        self._orders.append(parsed)

    def __len__(self) -> int:
        return len(self._orders)

    def batch(self) -> pa.RecordBatch:
        """The gathered orders as one batch in raw.orders' schema; the gathering starts over."""
        orders, self._orders = self._orders, []
        fields = {name: pa.array([getattr(p.value, name) for p in orders], ORDERS.arrow_schema.field(name).type)
                  for name in _ORDER_FIELDS}
        fields["_source_file"] = pa.array([p.position.file for p in orders], pa.string())
        fields["_source_line"] = pa.array([p.position.line for p in orders], pa.int64())
        plaintext = {name: pa.array([_text(p.value.record.get(name)) for p in orders], pa.string())
                     for name in PII_COLUMNS}
        return orders_batch(fields, plaintext, len(orders), self.default_phone_region)


# raw.orders columns an Order holds as they are written
_ORDER_FIELDS = ("order_id", "created_at", "status", "total_value", "currency", "sales_channel",
                 "checkout_type", "customer_id", "marketing_consent", "is_test")


def orders_batch(
    fields: Mapping[str, pa.Array], plaintext: Mapping[str, pa.Array], rows: int, default_phone_region: str | None
) -> pa.RecordBatch:
    """A raw.orders batch: `fields` by column name, and the hashes of the PII columns in
    `plaintext` (normalization per signal_audit_core.pii). No plaintext column is written."""
    columns = {**fields, **order_pii.hashed(plaintext, rows, default_phone_region)}
    return pa.RecordBatch.from_arrays([columns[name] for name in ORDERS.arrow_schema.names], schema=ORDERS.arrow_schema)


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
