"""Rejected rows: where a row came from and why it was not loaded, never what it held.

Every input row ends in its raw table or in `raw.rejected_rows`. The row's content is not kept
because it may hold plaintext PII; the file and line let the user look it up in their own copy.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar

import pyarrow as pa

from pipelines.tables import INT64, TEXT, Column, Table

if TYPE_CHECKING:  # not at run time: log-parsing workers import this module without dlt
    from dlt.extract.items import DataItemWithMeta

REJECTED_ROWS = Table(
    "rejected_rows",
    primary_key=("source", "source_file", "source_line"),
    columns=(
        Column("source", TEXT, nullable=False),
        Column("source_file", TEXT, nullable=False),
        Column("source_line", INT64, nullable=False),
        Column("reason", TEXT, nullable=False),
    ),
)

# Rows per Arrow table handed to dlt: big enough for dlt's Arrow passthrough to be fast,
# small enough to keep memory flat on large exports.
CHUNK_ROWS = 50_000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Position:
    """A row's place in the inputs: absolute file path and line (or Parquet record) number."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Rejected:
    position: Position
    reason: str


class Parsed(NamedTuple, Generic[T]):
    """A valid row before it is written: `key` is its primary key in the raw table."""

    position: Position
    key: Hashable
    value: T


@dataclass
class Tally:
    loaded: int = 0
    rejected: int = 0


def quote(value: Any) -> str:
    """A value for a reject reason, cut short: reasons are sentences, not copies of rows.

    Only values of non-PII fields (timestamps, amounts, platform names) are ever quoted.
    """
    text = str(value).strip()
    return f"'{text[:40]}...'" if len(text) > 40 else f"'{text}'"


def keep_last(read: Callable[[], Iterable[Parsed[T] | Rejected]]) -> Iterator[Parsed[T] | Rejected]:
    """Rows whose key comes again later in the load are rejected as superseded: the later wins.

    `read` is called twice. The first pass only notes where each key last occurs, so no row
    has to be held in memory and no PII is hashed for rows that will be dropped. Only valid
    rows supersede: a broken newer row must not make the order vanish.
    """
    last: dict[Hashable, Position] = {}
    for item in read():
        if isinstance(item, Parsed):
            last[item.key] = item.position
    for item in read():
        if isinstance(item, Parsed) and last[item.key] != item.position:
            yield Rejected(item.position, f"superseded by {last[item.key]}")
        else:
            yield item


def emit(
    source: str,
    table: Table,
    items: Iterable[tuple[Any, ...] | pa.RecordBatch | Rejected],
    tally: Tally,
    ensure_tables: bool = True,
) -> Iterator[DataItemWithMeta]:
    """Batch rows (tuples in `table`'s column order, or Arrow batches in its schema) and rejects
    into Arrow chunks for dlt.

    With `ensure_tables`, both tables get at least one chunk, empty if need be, so that every
    raw table exists with all its columns after any load; sources that emit page by page turn
    it off and leave that to the file pipeline.
    """
    rows: list[tuple[Any, ...]] = []
    batches: list[pa.RecordBatch] = []
    batched = 0
    rejects: list[tuple[Any, ...]] = []
    rows_sent = rejects_sent = False
    for item in items:
        if isinstance(item, Rejected):
            rejects.append((source, item.position.file, item.position.line, item.reason))
            tally.rejected += 1
            if len(rejects) == CHUNK_ROWS:
                yield REJECTED_ROWS.chunk(rejects)
                rejects, rejects_sent = [], True
            continue
        if isinstance(item, pa.RecordBatch):
            batches.append(item)
            batched += item.num_rows
            tally.loaded += item.num_rows
        else:
            rows.append(item)
            tally.loaded += 1
            if len(rows) < CHUNK_ROWS:
                continue
            batches.append(table.batch(rows))
            batched += len(rows)
            rows = []
        if batched >= CHUNK_ROWS:
            yield table.mark(pa.Table.from_batches(batches, schema=table.arrow_schema))
            batches, batched, rows_sent = [], 0, True
    if rows:
        batches.append(table.batch(rows))
    if batches or (ensure_tables and not rows_sent):
        yield table.mark(pa.Table.from_batches(batches, schema=table.arrow_schema))
    if rejects or (ensure_tables and not rejects_sent):
        yield REJECTED_ROWS.chunk(rejects)
