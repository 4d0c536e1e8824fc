"""Every mart as a file for BI tools that prefer files (or must not hold the DuckDB lock).

DuckDB writes the files itself (`COPY ... TO`), on every target: from the warehouse file opened
read-only (exporting never blocks a reader, and never needs the pipeline), or, on a database
server, from an in-memory DuckDB holding a copy of the marts read through the target's
read-only connection (marts are small: a row per day, platform and check).

A CSV cell is also a formula to a spreadsheet when it starts with `=`, `+`, `-`, `@`, a tab or
a carriage return, and the marts carry text the audited tracking sent (event names, pixel ids):
`=HYPERLINK(...)` as an event name would run when an analyst opens the file. In CSV, such text
cells get a leading `'` (OWASP's advice on CSV injection), which spreadsheets show as text;
numbers, dates and Parquet files are written as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from signal_audit_core.targets import Target, as_target
from signal_audit_core.warehouse import read_only

FORMATS = {"parquet": "(format parquet, compression zstd)", "csv": "(format csv, header true)"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportedTable:
    table: str  # marts.<name>
    path: Path
    rows: int


def export_marts(where: Target | Path, out_dir: Path, fmt: str = "parquet",
                 schema: str = "marts") -> list[ExportedTable]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; choose {' or '.join(FORMATS)}")
    target = as_target(where)
    warehouse = target.label
    con = read_only(target.duckdb_file) if target.duckdb_file is not None else _copied(target, schema)
    try:
        tables = [name for (name,) in con.execute(
            "select table_name from information_schema.tables where table_schema = ? order by table_name",
            [schema],
        ).fetchall()]
        if not tables:
            from signal_audit.reporting.data import MartsMissing

            raise MartsMissing(f"the warehouse {warehouse} has no {schema} tables yet: run `signal-audit run` first")
        out_dir.mkdir(parents=True, exist_ok=True)
        exported = []
        for name in tables:
            path = out_dir / f"{name}.{fmt}"
            partial = path.with_name(path.name + ".partial")
            rows = _csv_select(con, schema, name) if fmt == "csv" else f"select * from {schema}.{_ident(name)}"
            con.execute(f"copy ({rows}) to '{_sql_text(partial)}' {FORMATS[fmt]}")
            partial.replace(path)  # a BI tool reading the folder never sees half a file
            count = con.execute(f"select count(*) from {schema}.{_ident(name)}").fetchone()[0]
            exported.append(ExportedTable(f"{schema}.{name}", path, count))
        return exported
    finally:
        con.close()


def _copied(target: Target, schema: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB whose `schema` holds the target's tables of that schema, as they are:
    column order, names, nulls and types (by information_schema's names, which both engines
    share; PostgreSQL's numeric as a double, as DuckDB's marts hold it)."""
    import pyarrow as pa
    import sqlalchemy

    con = duckdb.connect()
    con.execute(f"create schema {_ident(schema)}")
    with target.connect() as source:
        columns: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in source.execute(sqlalchemy.text(
                "select table_name, column_name, data_type from information_schema.columns "
                "where table_schema = :schema order by table_name, ordinal_position"), {"schema": schema}):
            columns.setdefault(table, []).append((column, data_type))
        for name, typed in columns.items():
            values = source.execute(sqlalchemy.text(f"select * from {_ident(schema)}.{_ident(name)}")).fetchall()
            rows = pa.table({  # noqa: F841 - DuckDB reads the variable by its name
                column: _array([row[i] for row in values], _arrow_type(data_type))
                for i, (column, data_type) in enumerate(typed)})
            con.execute(f"create table {_ident(schema)}.{_ident(name)} as select * from rows")
    return con


def _arrow_type(data_type: str) -> Any:
    import pyarrow as pa

    kind = data_type.lower()
    exact = {"integer": pa.int32(), "bigint": pa.int64(), "smallint": pa.int16(), "boolean": pa.bool_(),
             "date": pa.date32(), "double precision": pa.float64(), "double": pa.float64(), "real": pa.float32(),
             "numeric": pa.float64(), "timestamp with time zone": pa.timestamp("us", tz="UTC"),
             "timestamp without time zone": pa.timestamp("us"), "timestamp": pa.timestamp("us")}
    return exact.get(kind, pa.float64() if kind.startswith(("numeric", "decimal")) else pa.string())


def _array(values: list[Any], kind: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_string(kind):  # any other type (json, arrays) as its text
        return pa.array([v if v is None or isinstance(v, str) else str(v) for v in values], type=kind)
    return pa.array([float(v) if isinstance(v, Decimal) else v for v in values], type=kind)


def _csv_select(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> str:
    """The table's columns in order, its text columns with formula-like cells neutralized."""
    columns = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        [schema, table],
    ).fetchall()
    starts = ", ".join(f"'{_sql_text(c)}'" for c in FORMULA_STARTS)
    parts = [
        f"case when left({_ident(column)}, 1) in ({starts}) then '''' || {_ident(column)} "
        f"else {_ident(column)} end as {_ident(column)}"
        if data_type == "VARCHAR" else _ident(column)
        for column, data_type in columns
    ]
    return f"select {', '.join(parts)} from {schema}.{_ident(table)}"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_text(text: object) -> str:
    return str(text).replace("'", "''")
