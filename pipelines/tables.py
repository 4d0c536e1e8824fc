"""The raw tables: one column list per table gives both its dlt hints and its Arrow schema.

Types are declared, never inferred: dbt reads these tables, so a file in which a column is
always empty must still land it with the same type. Every table is yielded as a dlt table
variant (`create_table_variant=True`) because a resource also feeds `rejected_rows`, and a
variant starts from the resource's own hints: column hints on the resource would leak into
`rejected_rows`.

dlt is imported where hints are made, not here: worker processes that parse input files build
Arrow batches with these schemas and should not pay dlt's import (about a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pyarrow as pa

if TYPE_CHECKING:
    from dlt.common.schema.typing import TColumnSchema
    from dlt.extract.items import DataItemWithMeta


@dataclass(frozen=True)
class Column:
    name: str
    arrow_type: pa.DataType
    nullable: bool = True
    # "desc": when one load holds a key twice, the row with the highest value here wins the merge
    dedup_sort: str | None = None

    @property
    def hint(self) -> TColumnSchema:
        hint: TColumnSchema = {"name": self.name, "nullable": self.nullable, **_DLT_TYPES[self.arrow_type]}
        if self.dedup_sort:
            hint["dedup_sort"] = self.dedup_sort  # type: ignore[typeddict-item]
        return hint


# Arrow type -> dlt column type; precision 32 makes dlt create INTEGER rather than BIGINT.
_DLT_TYPES: dict[pa.DataType, TColumnSchema] = {
    pa.string(): {"data_type": "text"},
    pa.int32(): {"data_type": "bigint", "precision": 32},
    pa.int64(): {"data_type": "bigint"},
    pa.float64(): {"data_type": "double"},
    pa.bool_(): {"data_type": "bool"},
    pa.date32(): {"data_type": "date"},
    pa.timestamp("us", tz="UTC"): {"data_type": "timestamp", "timezone": True},
}

TEXT = pa.string()
INT32 = pa.int32()
INT64 = pa.int64()
DOUBLE = pa.float64()
BOOL = pa.bool_()
DATE = pa.date32()
TIMESTAMPTZ = pa.timestamp("us", tz="UTC")

# Where each row came from; every raw table but rejected_rows ends with these two columns.
SOURCE_COLUMNS = (Column("_source_file", TEXT, nullable=False),
                  Column("_source_line", INT64, nullable=False))


@dataclass(frozen=True)
class Table:
    """A raw table merged on its primary key, so reloading the same files changes no row.

    `unique_keys`: the loader never yields a key twice in one load, so dlt's merge can skip
    ranking the staged rows per key (a window over every row, the costliest part of merging
    millions of log lines). Any duplicate that slipped through would then land twice.
    """

    name: str
    primary_key: tuple[str, ...]
    columns: tuple[Column, ...]
    unique_keys: bool = False
    # appended, never merged: the loader itself keeps every key once (raw.delivery_*)
    append: bool = False

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c.name, c.arrow_type, c.nullable) for c in self.columns])

    @cached_property
    def hints(self) -> Any:
        import dlt

        disposition: Any = "merge"
        if self.append:
            disposition = "append"
        elif self.unique_keys:
            disposition = {"disposition": "merge", "strategy": "delete-insert", "deduplicated": True}
        return dlt.mark.make_hints(
            table_name=self.name,
            write_disposition=disposition,
            primary_key=[] if self.append else list(self.primary_key),
            columns=[c.hint for c in self.columns],
        )

    def chunk(self, rows: Sequence[tuple[Any, ...]]) -> DataItemWithMeta:
        """Rows (tuples in column order) as one Arrow table marked for this dlt table.

        An empty chunk still creates the table with all its columns, which is how a load
        without this input leaves the table in place for dbt.
        """
        return self.mark(pa.Table.from_batches([self.batch(rows)]))

    def batch(self, rows: Sequence[tuple[Any, ...]]) -> pa.RecordBatch:
        """Rows (tuples in column order) as one Arrow record batch in this table's schema."""
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(self.columns)
        arrays = [
            pa.array(values, type=column.arrow_type)
            for values, column in zip(columns, self.columns, strict=True)
        ]
        return pa.RecordBatch.from_arrays(arrays, schema=self.arrow_schema)

    def mark(self, table: pa.Table) -> DataItemWithMeta:
        """An Arrow table in this table's schema, marked for this dlt table."""
        import dlt

        return dlt.mark.with_hints(table, self.hints, create_table_variant=True)
