"""Every mart as a file for BI tools that prefer files (or must not hold the DuckDB lock).

DuckDB writes the files itself (`COPY ... TO`), from a read-only connection: exporting never
blocks a reader, and never needs the pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from signal_audit.warehouse import read_only

FORMATS = {"parquet": "(format parquet, compression zstd)", "csv": "(format csv, header true)"}


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
            con.execute(f"copy (select * from {schema}.\"{name}\") to '{_sql_text(partial)}' {FORMATS[fmt]}")
            partial.replace(path)  # a BI tool reading the folder never sees half a file
            rows = con.execute(f"select count(*) from {schema}.\"{name}\"").fetchone()[0]
            exported.append(ExportedTable(f"{schema}.{name}", path, rows))
        return exported
    finally:
        con.close()


def _sql_text(path: Path) -> str:
    return str(path).replace("'", "''")
