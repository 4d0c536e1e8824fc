"""Event delivery log: one JSON line per request to a platform (or pixel fire), flattened once,
on load, into typed tables: raw.delivery_log (one row per line, its request and response kept
as JSON text so the native request stays retrievable), raw.delivery_events (one row per event
of the request's data, typed columns and one key_<match_key> column per match key) and
raw.delivery_event_pii (where e-mail addresses and phone numbers were redacted).

The request is kept in the platform's native shape, with two exceptions: a must-hash match key
(per the seeds) that holds plaintext is replaced by a marker, and so is every e-mail address and
phone number anywhere else in the request, the response or the pixel id (pipelines/log_lines.py).
DuckDB reads and judges the lines (pipelines/log_sql.py); Python parses only the lines that
must be rejected or redacted. The tables are appended: a line already in the warehouse is not
landed again (reading the same file again counts it as loaded; elsewhere it is a duplicate).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.items import DataItemWithMeta

from pipelines.log_sql import Landed, LogChunk, LogReader
from pipelines.rejects import CHUNK_ROWS, REJECTED_ROWS, Rejected, Tally
from pipelines.seeds import SEEDS_DIR, Platform, log_fields, match_keys
from pipelines.tables import INT32, INT64, SOURCE_COLUMNS, TEXT, TIMESTAMPTZ, Column, Table

LINE_COLUMNS = (
    Column("record_id", TEXT, nullable=False),
    Column("platform", TEXT, nullable=False),
    Column("channel", TEXT, nullable=False),
    Column("pixel_id", TEXT),
    Column("sent_at", TIMESTAMPTZ, nullable=False),
    Column("http_status", INT32),
)

DELIVERY_LOG = Table(
    "delivery_log",
    primary_key=("record_id",),
    columns=(
        *LINE_COLUMNS,
        Column("request", TEXT, nullable=False),
        Column("response", TEXT),
        Column("redacted_values", INT32, nullable=False),
        *SOURCE_COLUMNS,
    ),
    append=True,
)

DELIVERY_EVENT_PII = Table(
    "delivery_event_pii",
    primary_key=("record_id", "event_index", "place", "kind"),
    columns=(
        Column("record_id", TEXT, nullable=False),
        Column("event_index", INT32, nullable=False),
        Column("place", TEXT, nullable=False),
        Column("kind", TEXT, nullable=False),
        Column("values_found", INT32, nullable=False),
        *SOURCE_COLUMNS,
    ),
    append=True,
)


def delivery_events_table(seeds_dir: Path = SEEDS_DIR) -> Table:
    """raw.delivery_events: its typed columns come from seeds/delivery_log_fields.csv and
    seeds/match_keys.csv."""
    fields = dict.fromkeys(field.column for field in log_fields(seeds_dir))
    return Table(
        "delivery_events",
        primary_key=("record_id", "event_index"),
        columns=(
            LINE_COLUMNS[0],
            Column("event_index", INT64, nullable=False),
            *LINE_COLUMNS[1:],
            *(Column(name, TEXT) for name in fields),
            *(Column(f"key_{key}", TEXT) for key in match_keys(seeds_dir)),
            *SOURCE_COLUMNS,
        ),
        append=True,
    )


@dlt.resource(name="delivery_log")
def delivery_log(
    files: Sequence[Path], platforms: Mapping[str, Platform], tally: Tally,
    warehouse: Path | None = None, seeds_dir: Path = SEEDS_DIR, landed: Landed | None = None,
) -> Iterator[DataItemWithMeta]:
    """The three tables and the rejects, in chunks; each table at least once (empty if need
    be), so that every raw table exists after any load."""
    events_table = delivery_events_table(seeds_dir)
    tables = (DELIVERY_LOG, events_table, DELIVERY_EVENT_PII)
    pending: list[list[pa.Table]] = [[], [], []]
    sent = [False, False, False]
    rejects: list[tuple[object, ...]] = []

    def flush(i: int) -> Iterator[DataItemWithMeta]:
        table = tables[i]
        parts = [part.cast(table.arrow_schema) for part in pending[i]]
        yield table.mark(pa.concat_tables(parts) if parts else table.arrow_schema.empty_table())
        pending[i], sent[i] = [], True

    for item in read_delivery_log(files, platforms, warehouse, seeds_dir, landed):
        if isinstance(item, Rejected):
            rejects.append(("delivery_log", item.position.file, item.position.line, item.reason))
            tally.rejected += 1
            if len(rejects) == CHUNK_ROWS:
                yield REJECTED_ROWS.chunk(rejects)
                rejects = []
            continue
        tally.loaded += item.lines.num_rows + item.already_loaded
        for i, part in enumerate((item.lines, item.events, item.pii)):
            if part.num_rows:
                pending[i].append(part)
            if sum(p.num_rows for p in pending[i]) >= CHUNK_ROWS:
                yield from flush(i)
    for i in range(3):
        if pending[i] or not sent[i]:
            yield from flush(i)
    yield REJECTED_ROWS.chunk(rejects)


def read_delivery_log(
    files: Sequence[Path], platforms: Mapping[str, Platform], warehouse: Path | None = None,
    seeds_dir: Path = SEEDS_DIR, landed: Landed | None = None,
) -> Iterator[LogChunk | Rejected]:
    """Every file's landed rows and rejects, in file order; the first copy of a repeated line
    wins, within `files` and against what earlier loads landed: in the DuckDB file `warehouse`
    (read-only, and closed before this ends, so dlt can then write to it) or, on another engine,
    what `landed` finds (pipelines/log_sql.py)."""
    with LogReader(platforms, log_fields(seeds_dir), match_keys(seeds_dir), warehouse, landed=landed) as reader:
        yield from reader.read(files)
