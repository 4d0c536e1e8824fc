"""Event delivery log: one JSON line per request to a platform (or pixel fire) -> raw.delivery_log.

The request is kept in the platform's native shape, with two exceptions: a must-hash match key
(per the seeds) that holds plaintext is replaced by a marker, and so is every e-mail address and
phone number anywhere else in the request, the response or the pixel id (pipelines/log_lines.py).
Sending plaintext PII is itself a finding: staging still sees a must-hash key as present but
unhashed, and reads where the rest was found from `pii_found`; the plaintext never lands.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.items import DataItemWithMeta

from pipelines.files import decode_line, numbered_byte_lines
from pipelines.log_lines import parse_file
from pipelines.rejects import Position, Rejected, Tally, emit
from pipelines.seeds import Platform
from pipelines.spill import spilled_files
from pipelines.tables import INT32, SOURCE_COLUMNS, TEXT, TIMESTAMPTZ, Column, Table

DELIVERY_LOG = Table(
    "delivery_log",
    primary_key=("record_id",),
    columns=(
        Column("record_id", TEXT, nullable=False),
        Column("platform", TEXT, nullable=False),
        Column("channel", TEXT, nullable=False),
        Column("pixel_id", TEXT),
        Column("sent_at", TIMESTAMPTZ, nullable=False),
        Column("http_status", INT32),
        Column("request", TEXT, nullable=False),
        Column("response", TEXT),
        Column("redacted_values", INT32, nullable=False),
        # per event of request.data, where e-mail addresses and phone numbers were redacted
        Column("pii_found", TEXT),
        *SOURCE_COLUMNS,
    ),
    unique_keys=True,  # a repeated line is rejected as a duplicate, never yielded twice
)


@dlt.resource(name="delivery_log")
def delivery_log(
    files: Sequence[Path], platforms: Mapping[str, Platform], tally: Tally
) -> Iterator[DataItemWithMeta]:
    yield from emit("delivery_log", DELIVERY_LOG, read_delivery_log(files, platforms), tally)


def read_delivery_log(
    files: Sequence[Path], platforms: Mapping[str, Platform], workers: int | None = None
) -> Iterator[pa.RecordBatch | Rejected]:
    """raw.delivery_log rows (Arrow batches) and rejects; the first copy of a repeated line wins.

    Files may be parsed in parallel (`workers` processes; by default one per core for large
    inputs) but are taken in file order, so the first copy, and with it every row and reject,
    is what reading the files one after another gives. Only a 16-byte digest of each line is
    kept to spot repeats; where the first copy was is looked up again only when a repeat turns
    up, which is rare.
    """
    seen: set[bytes] = set()
    parse = partial(parse_file, platforms=platforms, table=DELIVERY_LOG)
    with spilled_files(parse, files, workers) as spilled:
        for parsed in spilled:
            file = str(parsed.path)
            for batch in parsed.reject_batches():
                for line, reason in zip(batch["line"].to_pylist(), batch["reason"].to_pylist(), strict=True):
                    yield Rejected(Position(file, line), reason)
            for batch in parsed.row_batches():
                yield from _first_copies(batch, seen, files)
            parsed.unlink()  # the disk holds a few files' rows at a time, not the whole log


def _first_copies(
    batch: pa.RecordBatch, seen: set[bytes], files: Sequence[Path]
) -> Iterator[pa.RecordBatch | Rejected]:
    """The rows of `batch` whose line is not in `seen` (which then holds them too); the other
    rows are rejected as duplicates."""
    digests = _digests(batch["digest"])
    rows = batch.drop_columns(["digest"])
    distinct = set(digests)
    if len(distinct) == len(digests) and seen.isdisjoint(distinct):  # the usual case, in bulk
        seen |= distinct
        yield rows
        return
    first: list[bool] = []
    for digest in digests:
        size = len(seen)
        seen.add(digest)
        first.append(len(seen) > size)
    for i in itertools.compress(range(len(first)), (not f for f in first)):
        position = Position(batch["_source_file"][i].as_py(), batch["_source_line"][i].as_py())
        original = _first_copy(files, batch["record_id"][i].as_py(), position)
        yield Rejected(position, f"duplicate of {original}")
    yield rows.filter(pa.array(first))


def _digests(column: pa.FixedSizeBinaryArray) -> list[bytes]:
    """The column's values as bytes; slicing its buffer is several times faster than to_pylist."""
    width = column.type.byte_width
    data = column.buffers()[1].to_pybytes()[column.offset * width:(column.offset + len(column)) * width]
    return [data[i:i + width] for i in range(0, len(data), width)]


def _first_copy(files: Sequence[Path], record_id: str, before: Position) -> Position:
    """Where the line whose SHA-256 is `record_id` first appears in `files` (before `before`)."""
    for path in files:
        for line, data in numbered_byte_lines(path):
            if str(path) == before.file and line >= before.line:
                return before
            other = decode_line(data)
            if other is not None and hashlib.sha256(other.encode()).hexdigest() == record_id:
                return Position(str(path), line)
    return before
