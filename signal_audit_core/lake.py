"""The Spark target's raw data: a lake folder of Parquet files that dlt's filesystem destination
writes and Spark reads as tables (signal_audit_core/targets.py: SparkTarget).

Layout (dlt's): `<lake>/raw/<table>/<load_id>.<file_id>.parquet`, one folder per raw table;
dlt's own `_dlt_loads`, `_dlt_version`, `_dlt_pipeline_state` folders hold JSONL, not Parquet.
macros/engines/spark.sql registers `raw.<table>` over `<lake>/raw/<table>`.

A Parquet lake has no DELETE, UPDATE or MERGE, and dlt falls back to appending where the other
engines merge on a key. So the latest version of a key wins in the landing, here: after each
load, a table merged on a key is read whole (every file) by an in-memory DuckDB, the latest row
per key kept (the highest `_dlt_load_id`, then dlt's `dedup_sort` column), written as one new
file in a folder beside it, and swapped in for the table's folder (`keep_latest`). The loader's
own small reads and writes (the manifest of loaded files, which log lines are landed, the stale
rejects) go through `LakeClient`, which speaks to an in-memory DuckDB reading the lake and
writes the tables it changed back the same way.

Cost: each load rewrites every merged table in full (orders, platform reports, rejects, Meta's
snapshots: a row per order or per day, never the delivery log, which is appended and never
rewritten). Fine for a shop's orders; a lake of tens of millions of orders wants Delta or
Iceberg (merge in place), which needs jars Spark cannot fetch here. DECISIONLOG.md, "Landing on
Spark".
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# the loader's tables the LakeClient may write (pipelines/manifest.py), with the primary key the
# manifest's upsert names (`on conflict`)
WRITABLE: dict[str, tuple[str, ...]] = {"_loaded_files": ("path",), "rejected_rows": ()}
_NAME = re.compile(r"[A-Za-z0-9_]+")


def tables(raw: Path) -> list[str]:
    """The lake's tables: folders of `raw` holding at least one Parquet file (not dlt's JSONL
    tables, nor a folder this module is swapping in)."""
    recover(raw)
    if not raw.is_dir():
        return []
    return sorted(p.name for p in raw.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and _NAME.fullmatch(p.name)
                  and any(p.glob("*.parquet")))


def files(raw: Path, table: str) -> str:
    """The glob of `table`'s Parquet files, for DuckDB's read_parquet."""
    return _literal(str(raw / table / "*.parquet"))


def read(raw: Path, table: str) -> str:
    """A DuckDB expression reading `table`'s files (columns matched by name, so a column added by
    a later load reads as null in older files)."""
    return f"read_parquet({files(raw, table)}, union_by_name = true)"


def recover(raw: Path) -> None:
    """Finish or undo a swap that a killed process left half done (see `_swap`)."""
    if not raw.is_dir():
        return
    for new in raw.glob(".*.new"):
        folder = raw / new.name[1:-len(".new")]
        if not folder.exists() and (new / ".complete").exists():
            os.replace(new, folder)  # the old folder was moved away: the new one is whole
        else:
            shutil.rmtree(new, ignore_errors=True)
    for old in raw.glob(".*.old"):
        if (raw / old.name[1:-len(".old")]).exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, raw / old.name[1:-len(".old")])


def write(con: Any, raw: Path, table: str, select: str, name: str) -> None:
    """Replace `table`'s files by one file `<name>.parquet` holding what `select` returns (run on
    `con`, a DuckDB connection), swapped in whole: a reader sees the old files or the new one."""
    new = raw / f".{table}.new"
    shutil.rmtree(new, ignore_errors=True)
    new.mkdir(parents=True)
    # microsecond timestamps with their zone, as dlt writes them: Spark reads them as timestamp
    con.execute(f"copy ({select}) to {_literal(str(new / f'{name}.parquet'))} (format parquet)")
    (new / ".complete").touch()  # hidden: neither Spark nor read_parquet's glob reads it
    _swap(raw, table, new)


def _swap(raw: Path, table: str, new: Path) -> None:
    folder, old = raw / table, raw / f".{table}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        os.replace(folder, old)
    os.replace(new, folder)
    (folder / ".complete").unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)


def keep_latest(raw: Path, table: str, keys: Sequence[str], sorts: Sequence[tuple[str, str]], name: str) -> bool:
    """Keep one row per `keys` in `table`: the latest load's, then by `sorts` ((column, "asc" or
    "desc"), dlt's dedup_sort), as dlt's merge keeps on the other engines. Rewrites the table
    only when it has more than one file or a key twice; says whether it did."""
    import duckdb

    recover(raw)
    folder = raw / table
    parquet = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
    if not parquet:
        return False
    con = duckdb.connect()
    try:
        source = read(raw, table)
        key_list = ", ".join(_quote(k) for k in keys)
        if len(parquet) == 1:
            rows, distinct = con.execute(
                f"select count(*), count(distinct ({key_list})) from {source}").fetchone()  # type: ignore[misc]
            if rows == distinct:
                return False
        order = ", ".join([f"{_quote('_dlt_load_id')} desc nulls last",
                           *(f"{_quote(c)} {'asc' if d == 'asc' else 'desc'}" for c, d in sorts)])
        write(con, raw, table, f"select * from {source} "
                               f"qualify row_number() over (partition by {key_list} order by {order}) = 1", name)
        return True
    finally:
        con.close()


class LakeClient:
    """What the loader asks of dlt's sql_client (pipelines/manifest.py, pipelines/upgrade.py,
    pipelines/load.py), on the lake: `execute_sql(sql, *args)` with %s parameters returns the
    rows; `begin_transaction()`.

    An in-memory DuckDB sees each lake table as a view `raw.<table>` over its files, so
    information_schema lists the tables and their columns. Inside a transaction the tables the
    loader writes (WRITABLE) are copied into memory; when it ends without an error, each is
    written back to the lake (`write`), one table after the other.
    """

    def __init__(self, raw: Path, name: str = "client") -> None:
        self.raw = raw
        self.name = name
        self._con: Any = None

    def __enter__(self) -> LakeClient:
        import duckdb

        self._con = duckdb.connect()
        self._con.execute("create schema raw")
        for table in tables(self.raw):
            self._con.execute(f"create view raw.{_quote(table)} as select * from {read(self.raw, table)}")
        return self

    def __exit__(self, *exc: object) -> None:
        self._con.close()
        self._con = None

    def execute_sql(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        cursor = self._con.execute(sql.replace("%s", "?"), list(args))
        try:
            return cursor.fetchall()
        except Exception:  # a statement without a result
            return []

    @contextmanager
    def begin_transaction(self) -> Iterator[None]:
        con = self._con
        for table, key in WRITABLE.items():
            if self._kind(table) == "VIEW":
                con.execute(f"create table raw.{_quote('__' + table)} as select * from raw.{_quote(table)}")
                con.execute(f"drop view raw.{_quote(table)}")
                con.execute(f"alter table raw.{_quote('__' + table)} rename to {_quote(table)}")
                if key:
                    con.execute(f"alter table raw.{_quote(table)} add primary key ({', '.join(map(_quote, key))})")
        con.execute("begin transaction")
        try:
            yield
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")
        for table in WRITABLE:
            if self._kind(table) == "BASE TABLE":
                name = f"{self.name}-{uuid.uuid4().hex[:10]}"
                write(con, self.raw, table, f"select * from raw.{_quote(table)}", name)

    def _kind(self, table: str) -> str | None:
        found = self._con.execute("select table_type from information_schema.tables "
                                  "where table_schema = 'raw' and table_name = ?", [table]).fetchall()
        return found[0][0] if found else None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
