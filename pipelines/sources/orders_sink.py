"""Orders read from a database or an API, into the same raw.orders rows as orders from files.

Each source maps its records onto the contract's columns (plaintext PII included) and hands
them here; validation, normalization and hashing are the file pipeline's own (`valid_order`,
`OrderRows`), so there is one implementation of what an order is and how PII is hashed.
Nothing is written before `OrderRows` has replaced the plaintext with hashes.

Where a row came from: `_source_file` is the record's address (the API URL of the record, or
the database table and key), `_source_line` its position in this run. When a run reads one
order twice (it changed while being paged through), the later read wins the merge.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
from dlt.extract.items import DataItemWithMeta

from pipelines.order_records import ORDERS, OrderRows, unencodable, valid_order
from pipelines.rejects import CHUNK_ROWS, Position, Rejected, Tally, emit
from signal_audit_core.config import OrdersConfig

# (the record's address, contract column -> value, or why the record cannot be read)
Record = tuple[str, Mapping[str, Any] | str]
# Put by a source in place of an item of its response that is not a JSON object, so that dlt's
# steps (incremental cursors) pass it on to be rejected here.
NOT_AN_OBJECT = "_signal_audit_not_an_object"


def as_object(item: Any) -> Any:
    """`item`, or a marker that `mapped` rejects when it is not a JSON object."""
    return item if isinstance(item, Mapping) else {NOT_AN_OBJECT: type(item).__name__}


def record_id(item: Any) -> Any:
    return item.get("id") if isinstance(item, Mapping) and NOT_AN_OBJECT not in item else None


def mapped(item: Any, to_values: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> Mapping[str, Any] | str:
    """`to_values(item)`: the source's record as contract columns, or why it cannot be read. A
    record of an unexpected shape (a field that is text where an object belongs) is one reject,
    not the end of the load."""
    if not isinstance(item, Mapping) or NOT_AN_OBJECT in item:
        return "not a JSON object"
    try:
        return to_values(item)
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError, RecursionError) as exc:
        return f"unreadable record ({type(exc).__name__})"


@dataclass
class OrdersSink:
    config: OrdersConfig
    tally: Tally
    read: int = 0

    def chunks(self, records: Iterable[Record]) -> Iterator[DataItemWithMeta]:
        tz = ZoneInfo(self.config.naive_timezone)

        def rows() -> Iterator[pa.RecordBatch | Rejected]:
            valid = OrderRows(self.config.default_phone_region)
            for address, values in records:
                self.read += 1
                position = Position(address, self.read)
                problem = values if isinstance(values, str) else unencodable(values)
                if problem is not None:
                    yield Rejected(position, problem)
                    continue
                result = valid_order(values, position, tz)
                if isinstance(result, Rejected):
                    yield result
                    continue
                valid.add(result)
                if len(valid) == CHUNK_ROWS:
                    yield valid.batch()
            if len(valid):
                yield valid.batch()

        yield from emit("orders", ORDERS, rows(), self.tally, ensure_tables=False)
