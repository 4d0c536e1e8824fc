"""Backend order files -> raw.orders: every file parsed (pipelines/order_records.py), then the
later of two rows for one order wins."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.items import DataItemWithMeta

from pipelines.order_records import ORDERS, OrdersSpilled, parse_file
from pipelines.rejects import LineItems, Position, Rejected, Tally, emit
from pipelines.spill import Spilled, spilled_files
from signal_audit_core.config import OrdersConfig

# A row's place in the load as one number: file index in the high bits, line in the low ones,
# so that later rows have larger numbers.
_LINE_BITS = 32


@dlt.resource(name="orders")
def orders(
    files: Sequence[Path], config: OrdersConfig, tally: Tally
) -> Iterator[DataItemWithMeta]:
    yield from emit("orders", ORDERS, read_orders(files, config), tally)


def read_orders(
    files: Sequence[Path], config: OrdersConfig, workers: int | None = None
) -> Iterator[pa.RecordBatch | Rejected | LineItems]:
    """raw.orders rows (Arrow batches), rejects, and the count of line-item rows folded into
    their orders; a row whose order comes again later in the load is rejected as superseded:
    the later wins. Only valid rows supersede, so a broken newer row does not make the order
    vanish.

    Files may be parsed in parallel (`workers` processes; by default one per core for large
    inputs). Every file is parsed before the first row is given out, since its last row for an
    order may be in the last file; the parsed rows wait on disk (hashed, never plaintext).
    """
    with spilled_files(partial(parse_file, config=config), files, workers) as spilled:
        parsed: list[Spilled] = []
        keys: list[pa.Table] = []  # order_id and place of every row, in Arrow: no Python objects
        for index, file in enumerate(spilled):
            parsed.append(file)
            keys += (_keys(batch, index) for batch in file.row_batches())
        superseded = _superseded(pa.concat_tables(keys) if keys else None)
        earlier = pa.array(superseded.keys(), pa.int64())
        for index, file in enumerate(parsed):
            path = str(file.path)
            if isinstance(file, OrdersSpilled) and file.line_items:
                yield LineItems(file.line_items)
            for batch in file.reject_batches():
                for line, reason in zip(batch["line"].to_pylist(), batch["reason"].to_pylist(), strict=True):
                    yield Rejected(Position(path, line), reason)
            for batch in file.row_batches():
                yield from _latest(batch, index, superseded, earlier, files)
            file.unlink()


def _keys(batch: pa.RecordBatch, index: int) -> pa.Table:
    place = pc.add(batch["_source_line"], pa.scalar(index << _LINE_BITS, pa.int64()))
    return pa.table({"order_id": batch["order_id"], "place": place})


def _superseded(keys: pa.Table | None) -> dict[int, int]:
    """Place of each row that is not its order's last -> place of that last row."""
    if keys is None:
        return {}
    per_order = keys.group_by("order_id").aggregate([("place", "max"), ("place", "count")])
    repeated = per_order.filter(pc.greater(per_order["place_count"], 1))
    if repeated.num_rows == 0:  # the usual case: no order twice in the load
        return {}
    rows = keys.join(repeated.select(["order_id", "place_max"]), "order_id")
    rows = rows.filter(pc.not_equal(rows["place"], rows["place_max"]))
    return dict(zip(rows["place"].to_pylist(), rows["place_max"].to_pylist(), strict=True))


def _latest(
    batch: pa.RecordBatch,
    index: int,
    superseded: dict[int, int],
    earlier: pa.Int64Array,
    files: Sequence[Path],
) -> Iterator[pa.RecordBatch | Rejected]:
    """The rows of `batch` (from file `index`) that are their order's last; the others (their
    places in `earlier`, the keys of `superseded`) rejected."""
    if superseded:
        places = _keys(batch, index)["place"]
        is_earlier = pc.is_in(places, value_set=earlier)
        if pc.any(is_earlier).as_py():
            for place in pc.filter(places, is_earlier).to_pylist():
                yield Rejected(_position(place, files), f"superseded by {_position(superseded[place], files)}")
            batch = batch.filter(pc.invert(is_earlier))
    yield batch


def _position(place: int, files: Sequence[Path]) -> Position:
    return Position(str(files[place >> _LINE_BITS]), place & ((1 << _LINE_BITS) - 1))
