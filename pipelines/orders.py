"""Backend order files -> raw.orders: every file parsed (pipelines/order_records.py), then the
later of two rows for one order wins."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.items import DataItemWithMeta

from pipelines.order_records import ORDERS, parse_file
from pipelines.rejects import Position, Rejected, Tally, emit
from pipelines.spill import Spilled, spilled_files
from signal_audit.config import OrdersConfig


@dlt.resource(name="orders")
def orders(
    files: Sequence[Path], config: OrdersConfig, tally: Tally
) -> Iterator[DataItemWithMeta]:
    yield from emit("orders", ORDERS, read_orders(files, config), tally)


def read_orders(
    files: Sequence[Path], config: OrdersConfig, workers: int | None = None
) -> Iterator[pa.RecordBatch | Rejected]:
    """raw.orders rows (Arrow batches) and rejects; a row whose order comes again later in the
    load is rejected as superseded: the later wins. Only valid rows supersede, so a broken
    newer row does not make the order vanish.

    Files may be parsed in parallel (`workers` processes; by default one per core for large
    inputs). Every file is parsed before the first row is given out, since its last row for an
    order may be in the last file; the parsed rows wait on disk (hashed, never plaintext).
    """
    with spilled_files(partial(parse_file, config=config), files, workers) as spilled:
        parsed: list[Spilled] = []
        last: dict[str, tuple[int, int]] = {}  # order_id -> (file index, line) of its last row
        for i, file in enumerate(spilled):
            parsed.append(file)
            for batch in file.row_batches():
                lines = zip(itertools.repeat(i), batch["_source_line"].to_pylist())
                last.update(zip(batch["order_id"].to_pylist(), lines, strict=True))
        for i, file in enumerate(parsed):
            path = str(file.path)
            for batch in file.reject_batches():
                for line, reason in zip(batch["line"].to_pylist(), batch["reason"].to_pylist(), strict=True):
                    yield Rejected(Position(path, line), reason)
            for batch in file.row_batches():
                yield from _latest(batch, i, last, files)
            file.unlink()


def _latest(
    batch: pa.RecordBatch, index: int, last: dict[str, tuple[int, int]], files: Sequence[Path]
) -> Iterator[pa.RecordBatch | Rejected]:
    """The rows of `batch` (from file `index`) that are their order's last; the others rejected."""
    keys = batch["order_id"].to_pylist()
    lines = batch["_source_line"].to_pylist()
    latest = [last[key] == (index, line) for key, line in zip(keys, lines, strict=True)]
    if all(latest):
        yield batch
        return
    path = str(files[index])
    for key, line, is_latest in zip(keys, lines, latest, strict=True):
        if not is_latest:
            later, later_line = last[key]
            yield Rejected(Position(path, line), f"superseded by {Position(str(files[later]), later_line)}")
    yield batch.filter(pa.array(latest))
