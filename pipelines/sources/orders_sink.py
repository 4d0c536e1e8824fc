"""Orders read from a database or an API, into the same raw.orders rows as orders from files.

Each source maps its records onto the contract's columns (plaintext PII included) and hands
them here; validation, normalization and hashing are the file pipeline's own (`parse_order`,
`to_row`), so there is one implementation of what an order is and how PII is hashed.
Nothing is written before `to_row` has replaced the plaintext with hashes.

Where a row came from: `_source_file` is the record's address (the API URL of the record, or
the database table and key), `_source_line` its position in this run. When a run reads one
order twice (it changed while being paged through), the later read wins the merge.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dlt.extract.items import DataItemWithMeta

from pipelines.order_records import ORDERS, parse_order, to_row
from pipelines.rejects import Position, Rejected, Tally, emit
from signal_audit.config import OrdersConfig

Record = tuple[str, Mapping[str, Any]]  # (the record's address, contract column -> value)


@dataclass
class OrdersSink:
    config: OrdersConfig
    tally: Tally
    read: int = 0

    def chunks(self, records: Iterable[Record]) -> Iterator[DataItemWithMeta]:
        tz = ZoneInfo(self.config.naive_timezone)

        def rows() -> Iterator[tuple[Any, ...] | Rejected]:
            for address, values in records:
                self.read += 1
                parsed = parse_order(values, Position(address, self.read), tz)
                yield parsed if isinstance(parsed, Rejected) else to_row(parsed, self.config.default_phone_region)

        yield from emit("orders", ORDERS, rows(), self.tally, ensure_tables=False)
