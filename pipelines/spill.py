"""Input files parsed one file per task, in worker processes when the input is large.

Parsing in Python is most of a full load (millions of rows at some 100k a second per core), so
each file of a large input is parsed in a worker process, and the results are taken in file
order, which keeps "first copy wins" and "later row wins" exactly what one process gives.

A task writes its file's rows and rejects to Arrow IPC files (its spill) instead of returning
them: memory stays at one batch per worker however large a file is. The rows are already what
lands in the warehouse (PII hashed or redacted), never plaintext.

Worker processes are spawned, so they import this module and the parse function's module:
keep those free of dlt (its import alone takes a worker about a second).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable, Generator, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import pyarrow as pa

from pipelines.rejects import CHUNK_ROWS
from pipelines.tables import Table

# Inputs smaller than this (bytes on disk) are parsed in this process: starting worker
# processes takes about a second, longer than parsing a few days of input.
PARALLEL_BYTES = 16 * 2**20

REJECTS = pa.schema([pa.field("line", pa.int64(), nullable=False),
                     pa.field("reason", pa.string(), nullable=False)])


@dataclass(frozen=True)
class Spilled:
    """One input file parsed: its rows (in line order) and its rejects (line, reason)."""

    path: Path  # the input file
    rows: Path
    rejects: Path

    def row_batches(self) -> Iterator[pa.RecordBatch]:
        yield from _read(self.rows)

    def reject_batches(self) -> Iterator[pa.RecordBatch]:
        yield from _read(self.rejects)

    def unlink(self) -> None:
        self.rows.unlink(missing_ok=True)
        self.rejects.unlink(missing_ok=True)


class SpillWriter:
    """Writes one file's rows (tuples in `table`'s column order, plus `extra` values when given)
    and rejects to its spill, a batch at a time."""

    def __init__(self, path: Path, spill: Path, table: Table, extra: pa.Field | None = None) -> None:
        self.spilled = Spilled(path, spill.with_suffix(".rows"), spill.with_suffix(".rejects"))
        self._table, self._extra = table, extra
        schema = table.arrow_schema if extra is None else table.arrow_schema.append(extra)
        self._files = (pa.OSFile(str(self.spilled.rows), "wb"), pa.OSFile(str(self.spilled.rejects), "wb"))
        self._rows_out = pa.ipc.new_stream(self._files[0], schema)
        self._rejects_out = pa.ipc.new_stream(self._files[1], REJECTS)
        self._rows: list[tuple[Any, ...]] = []
        self._extras: list[Any] = []
        self._rejects: list[tuple[int, str]] = []

    def row(self, row: tuple[Any, ...], extra: Any = None) -> None:
        self._rows.append(row)
        self._extras.append(extra)
        if len(self._rows) == CHUNK_ROWS:
            self._write_rows()

    def batch(self, batch: pa.RecordBatch) -> None:
        """Rows already in the table's schema (`extra` included), written as they are."""
        self._write_rows()
        self._rows_out.write_batch(batch)

    def reject(self, line: int, reason: str) -> None:
        self._rejects.append((line, reason))
        if len(self._rejects) == CHUNK_ROWS:
            self._write_rejects()

    def __enter__(self) -> SpillWriter:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if kind is None:
            self._write_rows()
            self._write_rejects()
        self._rows_out.close()
        self._rejects_out.close()
        for file in self._files:
            file.close()

    def _write_rows(self) -> None:
        if self._rows:
            batch = self._table.batch(self._rows)
            if self._extra is not None:
                batch = batch.append_column(self._extra, pa.array(self._extras, type=self._extra.type))
            self._rows_out.write_batch(batch)
            self._rows, self._extras = [], []

    def _write_rejects(self) -> None:
        if self._rejects:
            lines, reasons = zip(*self._rejects, strict=True)
            self._rejects_out.write_batch(pa.RecordBatch.from_arrays(
                [pa.array(lines, pa.int64()), pa.array(reasons, pa.string())], schema=REJECTS))
            self._rejects = []


# parse(input file, spill path without suffix) -> its Spilled; must be picklable for workers
Parse = Callable[[Path, Path], Spilled]


@contextmanager
def spilled_files(
    parse: Parse, files: Sequence[Path], workers: int | None = None
) -> Iterator[Iterator[Spilled]]:
    """`parse` of each file, in file order, each spill kept until this context ends (or the
    caller unlinks it). `workers`: processes to parse in; by default one per core for large
    inputs and none (this process) for small ones."""
    if workers is None:
        large = sum(path.stat().st_size for path in files) >= PARALLEL_BYTES
        workers = min(_cores(), len(files)) if large else 1
    with tempfile.TemporaryDirectory(prefix="signal-audit-") as folder:
        spills = [Path(folder) / str(i) for i in range(len(files))]
        spilled = (
            _in_workers(parse, files, spills, workers) if workers > 1
            else (parse(path, spill) for path, spill in zip(files, spills, strict=True))
        )
        # closed before the folder goes, so that no worker still writes into it
        with closing(spilled):
            yield spilled


def _in_workers(
    parse: Parse, files: Sequence[Path], spills: Sequence[Path], workers: int
) -> Generator[Spilled, None, None]:
    """`parse` of each file in `workers` processes, a few files ahead of the caller."""
    # spawned, not forked: this process may hold dlt's and DuckDB's threads and their locks
    context = multiprocessing.get_context("spawn")
    tasks = zip(files, spills, strict=True)
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[Future[Spilled]] = deque()
        try:
            while True:
                for path, spill in itertools.islice(tasks, 2 * workers - len(pending)):
                    pending.append(pool.submit(parse, path, spill))
                if not pending:
                    return
                yield pending.popleft().result()
        finally:
            pool.shutdown(cancel_futures=True)


def _cores() -> int:
    """Cores this process may run on (sched_getaffinity is Linux-only)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _read(path: Path) -> Iterator[pa.RecordBatch]:
    with pa.memory_map(str(path)) as source:
        yield from pa.ipc.open_stream(source)
