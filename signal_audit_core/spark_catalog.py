"""The Spark target's tables, read without Spark: a DuckDB file of views over the Parquet files
Spark and dlt wrote (SparkTarget.connect, SparkTarget.gx_datasource).

Everything after the build (checks, report, scorecard, export, run history) reads the marts
through one SQLAlchemy connection in SQL every engine speaks. On Spark in local mode there is
no server to connect to (dbt-spark's session method runs Spark inside dbt's process, and the
embedded metastore takes one process at a time), so after each build the target writes
`<spark dir>/readers.duckdb`: one view per table Spark wrote, over its folder in
`spark-warehouse/<schema>.db/<table>/` (day partitions read as the `report_date=...` column
they are named by), and one per raw table of the lake. The views read the files when queried:
the numbers are the ones Spark computed, byte for byte, and a reader needs neither Java nor
Spark. The schema `audit_history` (the run history) is a table of that file, kept across
refreshes.

A table Spark wrote no file for (a day-partitioned mart with no rows) is an empty view with the
columns and types of its contract, from dbt's manifest. Spark's views (the staging models) have
no files: the readers do not read them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from signal_audit_core import lake

CATALOG_FILE = "readers.duckdb"
KEEP = frozenset({"audit_history", "main", "information_schema", "pg_catalog"})
# dlt's load table on a filesystem destination: one JSON object per load (dlt's _store_load)
LOADS_COLUMNS = {"load_id": "varchar", "schema_name": "varchar", "status": "bigint",
                 "inserted_at": "timestamptz", "schema_version_hash": "varchar"}


def refresh(spark_dir: Path, raw: Path, manifest: Path | None, catalog: Path) -> int:
    """(Re)write the views of `catalog` over the tables in `spark_dir`'s warehouse and the lake's
    `raw` folder; `manifest` (dbt's manifest.json) types the tables with no file. Returns how
    many views it wrote. The run history in the file is kept."""
    import duckdb

    contracts = _contract_columns(manifest)
    catalog.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(catalog))
    try:
        con.execute("begin transaction")
        for (schema,) in con.execute("select schema_name from information_schema.schemata "
                                     "where catalog_name = current_database()").fetchall():
            if schema not in KEEP:
                con.execute(f"drop schema {_quote(schema)} cascade")
        views = 0
        con.execute("create schema raw")
        for table in lake.tables(raw):
            con.execute(f"create view raw.{_quote(table)} as select * from {lake.read(raw, table)}")
            views += 1
        loads = raw / "_dlt_loads"
        if any(loads.glob("*.jsonl")):
            columns = ", ".join(f"{_literal(name)}: {_literal(kind)}" for name, kind in LOADS_COLUMNS.items())
            con.execute(f"create view raw._dlt_loads as select * from read_json("
                        f"{_literal(str(loads / '*.jsonl'))}, format = 'newline_delimited', columns = {{{columns}}})")
            views += 1
        for schema, table, folder in _spark_tables(spark_dir / "spark-warehouse"):
            if schema == "raw":
                continue  # the lake's, above
            con.execute(f"create schema if not exists {_quote(schema)}")
            columns = contracts.get((schema, table))
            select = _read_folder(folder, columns) or _empty_select(columns)
            if select is None:
                continue  # no file and no contract: nothing says what its columns are
            con.execute(f"create view {_quote(schema)}.{_quote(table)} as {select}")
            views += 1
        con.execute("commit")
        return views
    finally:
        con.close()


def _spark_tables(warehouse: Path) -> list[tuple[str, str, Path]]:
    """(schema, table, folder) of every managed table: Spark keeps `<schema>.db/<table>/`."""
    if not warehouse.is_dir():
        return []
    return sorted((db.name[:-len(".db")], folder.name, folder)
                  for db in warehouse.glob("*.db") if db.is_dir()
                  for folder in db.iterdir() if folder.is_dir() and not folder.name.startswith((".", "_")))


def _read_folder(folder: Path, columns: list[tuple[str, str]] | None) -> str | None:
    """A select over the folder's Parquet files, partition folders (`column=value`) as columns,
    in the contract's order when there is one (Spark puts partition columns last), or None when
    Spark wrote no file (a partitioned table with no rows)."""
    files = [f for f in folder.rglob("*.parquet")
             if not any(part.startswith((".", "_")) for part in f.relative_to(folder).parts)]
    if not files:
        return None
    partitioned = any("=" in part for f in files for part in f.relative_to(folder).parts[:-1])
    # partition folders only: not Spark's `_temporary` of a write in progress
    pattern = str(folder / "*=*" / "**" / "*.parquet") if partitioned else str(folder / "*.parquet")
    names = ", ".join(_quote(name) for name, _ in columns) if columns else "*"
    return (f"select {names} from read_parquet({_literal(pattern)}, "
            f"hive_partitioning = {str(partitioned).lower()}, union_by_name = true)")


def _empty_select(columns: list[tuple[str, str]] | None) -> str | None:
    if not columns:
        return None
    return "select " + ", ".join(f"cast(null as {_duckdb_type(kind)}) as {_quote(name)}"
                                 for name, kind in columns) + " where false"


def _duckdb_type(spark_type: str) -> str:
    kind = spark_type.strip().lower()
    return {"string": "varchar", "int": "integer", "long": "bigint", "short": "smallint",
            "byte": "tinyint", "float": "real"}.get(kind, kind)


def _contract_columns(manifest: Path | None) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, type)] of every model whose columns all have a data type."""
    if manifest is None or not manifest.is_file():
        return {}
    nodes: dict[str, Any] = json.loads(manifest.read_text()).get("nodes", {})
    found: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for node in nodes.values():
        columns = [(name, column.get("data_type")) for name, column in (node.get("columns") or {}).items()]
        if node.get("resource_type") in ("model", "seed") and columns and all(kind for _, kind in columns):
            found[(str(node["schema"]).lower(), str(node.get("alias") or node["name"]).lower())] = columns
    return found


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
