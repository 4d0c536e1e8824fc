"""Order CSV files read and validated by Arrow in bulk; Python sees only the rows it must judge.

Arrow reads the file as text columns, and each row is checked column by column against
shapes on which the per-row rules (order_records.parse_order) cannot disagree: an order id of
printable ASCII without `@ + (` or spaces, an ISO 8601 timestamp with seconds (and an offset,
or none when naive times are UTC), a plain decimal total, a status, currency and channel that
are no customer data. Columns with few distinct values (status, currency, channel, checkout
type, flags) are judged once per distinct value by the per-row functions themselves. A row
that passes is converted by Arrow; every other row (a reject, a line-item row, an odd but valid
timestamp) goes through parse_order as before, with its neighbours' context.

Only a file Arrow reads exactly as Python's csv module does is read here (UTF-8, no NUL, `\\n`
or `\\r\\n` line ends, one row per line: no quoted line break, a header without quotes): the
line numbers of rejects then follow from the row numbers. Quoting elsewhere, stray quotes
included, Arrow and the csv module read alike (checked on generated files by
tests/python/test_orders_vectorized.py). Any other file is left to the per-row reader
(`read` returns None).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from pipelines.files import BOM, is_gzip
from pipelines.order_pii import by_distinct
from pipelines.order_pii import text as _text
from pipelines.order_records import (
    EARLIEST,
    LATEST,
    MAX_TOTAL,
    Order,
    _flag,
    _source_columns,
)
from pipelines.rejects import CHUNK_ROWS, is_personal, may_be_personal
from signal_audit_core.config import OrdersConfig

# printable ASCII but `@`, `+`, `(`: never trimmed, never read as an e-mail address or phone
_PLAIN_ID = r"^[\x21-\x27\x29\x2a\x2c-\x3f\x41-\x7e]+$"
_TIME = (r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
         r"(\.[0-9]{1,6})?")
_OFFSET = r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
_DECIMAL = r"^-?[0-9]{1,13}(\.[0-9]{1,20})?$"
_UTC = pa.timestamp("us", tz="UTC")


@dataclass(frozen=True)
class CsvFile:
    """A CSV file as Arrow text columns (every column of the file, contract names for the
    contract columns it has) and the line of each row."""

    path: Path
    table: pa.Table
    columns: dict[str, str]  # contract column -> the file's column

    def parts(self, tz: ZoneInfo) -> Iterator[CsvPart]:
        for start in range(0, self.table.num_rows, CHUNK_ROWS):
            yield CsvPart(self.table.slice(start, CHUNK_ROWS), self.columns, start + 2, tz)


def read(path: Path, config: OrdersConfig) -> CsvFile | None:
    """The file read by Arrow, or None when only Python's csv module reads it right."""
    data = _bytes(path)
    if data is None or b"\x00" in data or data.count(b"\r") != data.count(b"\r\n"):
        return None
    data = data.removeprefix(BOM)
    first_end = data.find(b"\n")
    try:
        header_line = (data if first_end < 0 else data[:first_end]).decode("utf-8")
    except UnicodeDecodeError:
        return None
    header = [name.strip() for name in next(csv.reader([header_line.rstrip("\r")]), [])]
    if not header or first_end < 0 or '"' in header_line or len(set(header)) != len(header):
        return None
    names = [f"column {i}" for i in range(len(header))]
    try:
        table = pa_csv.read_csv(
            io.BytesIO(data),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1, use_threads=False),
            parse_options=pa_csv.ParseOptions(ignore_empty_lines=False),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False),
        )
    except (pa.ArrowInvalid, UnicodeError):  # a row of another width, bytes that are no UTF-8
        return None
    lines = data.count(b"\n") - (1 if data.endswith(b"\n") else 0)
    if table.num_rows != lines:  # each line one row, or the line numbers would not follow
        return None
    columns = _source_columns(path, header, config)  # stops on a missing required column
    renamed = {header.index(column): name for name, column in columns.items()}
    table = table.rename_columns([renamed.get(i, name) for i, name in enumerate(names)])
    return CsvFile(path, table, columns)


def _bytes(path: Path) -> bytes | None:
    try:
        return gzip.decompress(path.read_bytes()) if is_gzip(path) else path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error):
        return None  # the per-row reader says what is wrong


class CsvPart:
    """Rows of a CSV file, judged column by column: `clean` rows are valid orders whose values
    (`fields`) Arrow converted; the others are for parse_order."""

    def __init__(self, table: pa.Table, columns: dict[str, str], first_line: int, tz: ZoneInfo) -> None:
        self.table = table
        self.first_line = first_line
        self.present = list(columns)

        def column(name: str) -> pa.Array:
            if name in columns:
                return table.column(name).combine_chunks()
            return pa.array([""] * table.num_rows, pa.string())

        order_id = column("order_id")
        created_at, created_ok = _timestamps(column("created_at"), tz)
        total = column("total_value")
        total_ok = pc.match_substring_regex(total, _DECIMAL)
        total_value = pc.if_else(total_ok, total, "0").cast(pa.float64())
        total_ok = pc.and_(total_ok, pc.less_equal(pc.abs(total_value), MAX_TOTAL))
        status = by_distinct(column("status"), _status, _JUDGED)
        currency = by_distinct(column("currency"), _currency, _JUDGED)
        channel = by_distinct(column("sales_channel"), _channel, _JUDGED)
        self.clean = pc.and_(
            pc.and_(pc.and_(pc.match_substring_regex(order_id, _PLAIN_ID), created_ok),
                    pc.and_(total_ok, pc.struct_field(status, "ok"))),
            pc.and_(pc.struct_field(currency, "ok"), pc.struct_field(channel, "ok")))
        self.fields = {
            "order_id": order_id,
            "created_at": created_at,
            "status": pc.struct_field(status, "value"),
            "total_value": total_value,
            "currency": pc.struct_field(currency, "value"),
            "sales_channel": pc.struct_field(channel, "value"),
            "checkout_type": by_distinct(column("checkout_type"), _checkout_type),
            "customer_id": _customer_ids(column("customer_id")),
            "marketing_consent": by_distinct(column("marketing_consent"), _flag, pa.bool_()),
            "is_test": by_distinct(column("is_test"), lambda v: bool(_flag(v)), pa.bool_()),
            "_source_line": pa.array(range(first_line, first_line + table.num_rows), pa.int64()),
        }

    def unjudged(self) -> Iterator[tuple[int, dict[str, Any] | None, OrderRow | None]]:
        """The rows that are not clean, in line order, read into Python in one go: (line,
        contract column -> text, or None for a row without any value (`,,,`), which the per-row
        reader skips; the clean order row just before it, if there is one)."""
        clean = self.clean.to_pylist()
        rows = [row for row, ok in enumerate(clean) if not ok]
        if not rows:
            return
        after_clean = [row for row in rows if row > 0 and clean[row - 1]]
        before = dict(zip(after_clean, self._order_rows([row - 1 for row in after_clean]), strict=True))
        for row, values in zip(rows, self.table.take(rows).to_pylist(), strict=True):
            blank = not "".join(values.values()).strip()
            yield self.first_line + row, None if blank else {n: values[n] for n in self.present}, before.get(row)

    def last_order_row(self) -> OrderRow | None:
        """The last row when it is a clean order (what a line-item row in the next part follows)."""
        last = self.table.num_rows - 1
        return self._order_rows([last])[0] if last >= 0 and self.clean[last].as_py() else None

    def _order_rows(self, rows: list[int]) -> list[OrderRow]:
        """Clean rows as (order id, line, order): what a line-item row after one is compared with."""
        names = [name for name in Order._fields if name != "record"]
        indices = pa.array(rows, pa.int64())
        taken = pa.table({name: self.fields[name].take(indices) for name in names}).to_pylist()
        return [(values["order_id"], self.first_line + row, Order(**values, record={}))
                for row, values in zip(rows, taken, strict=True)]


# the last order row of a file read so far: its id, line and order (None when rejected)
OrderRow = tuple[str, int, Order | None]


# a column judged by the per-row rules: is the value acceptable, and what is written
_JUDGED = pa.struct([("ok", pa.bool_()), ("value", pa.string())])


def _status(value: str) -> tuple[bool, str | None]:
    status = _text(value)
    return status is not None and not _personal(status), status.lower() if status else None


def _currency(value: str) -> tuple[bool, str | None]:
    currency = _text(value)
    return currency is not None and not _personal(currency), currency.upper() if currency else None


def _channel(value: str) -> tuple[bool, str | None]:
    channel = _text(value)
    return not (channel is not None and _personal(channel)), (channel or "web").lower()


def _checkout_type(value: str) -> str | None:
    checkout_type = (_text(value) or "").lower()
    return checkout_type if checkout_type in ("guest", "account") else None


def _personal(text: str) -> bool:
    return may_be_personal(text) and is_personal(text)


def _customer_id(value: str) -> str | None:
    customer_id = _text(value)
    if customer_id is not None and may_be_personal(customer_id, strict=True) and is_personal(customer_id, strict=True):
        return None  # a shop that keys customers by e-mail or phone: not kept
    return customer_id


def _customer_ids(values: pa.Array) -> pa.Array:
    """Plain ids as they are (empty: null); the rest judged per distinct value in Python."""
    plain = pc.match_substring_regex(values, _PLAIN_ID)
    judged = pc.if_else(plain, pa.scalar(None, pa.string()), values)
    return pc.if_else(plain, values, by_distinct(judged, lambda v: None if v is None else _customer_id(v)))


def _timestamps(values: pa.Array, tz: ZoneInfo) -> tuple[pa.Array, pa.Array]:
    """Timestamps in UTC, and which rows have one of the shapes read here (with an offset, or
    naive when naive times are UTC) inside the years orders may have."""
    with_offset = pc.match_substring_regex(values, _TIME + _OFFSET)
    naive = pc.match_substring_regex(values, _TIME + "$")
    if tz.key != "UTC":
        naive = pc.and_(naive, False)
    shaped = pc.or_(with_offset, naive)
    # naive times in UTC written with their offset, so that one cast reads every row
    text = pc.if_else(naive, pc.binary_join_element_wise(values, "Z", ""), values)
    text = pc.if_else(shaped, text, "1970-01-01T00:00:00Z")
    try:
        times = text.cast(_UTC)
    except pa.ArrowInvalid:  # a day the calendar lacks (`2026-02-30`): those rows are Python's
        shaped = pc.and_(shaped, pa.array([_real_time(t) for t in text.to_pylist()]))
        times = pc.if_else(shaped, text, "1970-01-01T00:00:00Z").cast(_UTC)
    in_range = pc.and_(pc.greater_equal(times, pa.scalar(EARLIEST, _UTC)), pc.less(times, pa.scalar(LATEST, _UTC)))
    return times, pc.and_(shaped, in_range)


def _real_time(text: Any) -> bool:
    try:
        dt.datetime.fromisoformat(text)
    except ValueError:
        return False
    return True
