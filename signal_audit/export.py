"""Every mart as a file for BI tools that prefer files (or must not hold the DuckDB lock).

DuckDB writes the files itself (`COPY ... TO`), from a read-only connection: exporting never
blocks a reader, and never needs the pipeline.

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

from signal_audit_core.warehouse import read_only

FORMATS = {"parquet": "(format parquet, compression zstd)", "csv": "(format csv, header true)"}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class ExportedTable:
    table: str  # marts.<name>
    path: Path
    rows: int


def export_marts(warehouse: Path, out_dir: Path, fmt: str = "parquet", schema: str = "marts") -> list[ExportedTable]:
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format '{fmt}'; choose {' or '.join(FORMATS)}")
    con = read_only(warehouse)
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
