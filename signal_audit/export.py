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
from pathlib import Path

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
    """An in-memory DuckDB whose `schema` holds the target's tables of that schema, as they are
    (column order, names, nulls; PostgreSQL's numeric as double, its text as VARCHAR)."""
    import pyarrow as pa
    import sqlalchemy

    from signal_audit.reporting.data import frame

    con = duckdb.connect()
    con.execute(f"create schema {_ident(schema)}")
    with target.connect() as source:
        tables = [name for (name,) in source.execute(sqlalchemy.text(
            "select table_name from information_schema.tables where table_schema = :schema "
            "and table_type in ('BASE TABLE', 'VIEW') order by table_name"), {"schema": schema})]
        for name in tables:
            rows = pa.Table.from_pandas(  # noqa: F841 - DuckDB reads the variable by its name
                frame(source, f"select * from {_ident(schema)}.{_ident(name)}"), preserve_index=False)
            con.execute(f"create table {_ident(schema)}.{_ident(name)} as select * from rows")
    return con


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
