"""Which input files are already in the warehouse, so a daily run reads only what is new.

A file is known by its path, size and modification time, recorded in `raw._loaded_files`
after the load that read it succeeded. A later run skips a file whose three match; a file that
was rewritten (new size or time) is read again in full and merged, which changes nothing it
already held. Recording after success, not before, means a crash costs a re-read, never a
skipped file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

TABLE = "raw._loaded_files"
# rows per INSERT statement: a year of daily files in one or two statements (DuckDB's
# executemany takes about 2 ms a row), well under any engine's limit on parameters
ROWS_PER_STATEMENT = 1000


def stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def loaded(client: Any) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file an earlier run loaded. `client`: an open dlt
    sql_client of the target (signal_audit_core/targets.py); the SQL is DuckDB's and
    PostgreSQL's alike."""
    if not has_table(client, "_loaded_files"):
        return {}
    rows = client.execute_sql(f"select path, size, mtime_ns from {TABLE}")
    return {path: (int(size), int(mtime)) for path, size, mtime in rows}


def new_or_changed(files: Sequence[Path], known: Mapping[str, tuple[int, int]]) -> list[Path]:
    return [p for p in files if known.get(str(p)) != stamp(p)]


def record(
    client: Any,
    files: Mapping[str, Sequence[Path]],
    reread: Mapping[str, Sequence[Path]] | None = None,
    load_ids: Sequence[str] = (),
) -> None:
    """Remember `files` (by source) as loaded, with their size and time as read.

    The files `reread` (by source) were read in full by the loads `load_ids`: the rejects that
    earlier loads wrote for them go, in the same transaction, so that a fixed line does not
    stay rejected beside its loaded row. `client`: an open dlt sql_client of the target.
    """
    # by path: a file given for two sources is recorded once, for the last (one statement may
    # not upsert a row twice)
    rows = {str(p): (source, str(p), *stamp(p)) for source, paths in files.items() for p in paths}
    read = sorted({str(p) for paths in (reread or {}).values() for p in paths})
    if not rows and not (read and load_ids):
        return
    with client.begin_transaction():
        if read and load_ids:
            _drop_stale_rejects(client, read, load_ids)
        if rows:
            _remember(client, list(rows.values()))


def has_table(client: Any, table: str, column: str | None = None) -> bool:
    """Whether raw.`table` (with `column`) exists."""
    if column is None:
        found = client.execute_sql(
            "select count(*) from information_schema.tables where table_schema = 'raw' and table_name = %s", table)
    else:
        found = client.execute_sql(
            "select count(*) from information_schema.columns where table_schema = 'raw' "
            "and table_name = %s and column_name = %s", table, column)
    return bool(found[0][0])


def _drop_stale_rejects(client: Any, paths: Sequence[str], load_ids: Sequence[str]) -> None:
    if not has_table(client, "rejected_rows", "_dlt_load_id"):
        return
    # lists bind as arrays (PostgreSQL) and lists (DuckDB); unnest reads both
    client.execute_sql(
        "delete from raw.rejected_rows where source_file in (select unnest(%s)) "
        "and (_dlt_load_id is null or _dlt_load_id not in (select unnest(%s)))", list(paths), list(load_ids))


def _remember(client: Any, rows: Sequence[tuple[object, ...]]) -> None:
    client.execute_sql("create schema if not exists raw")
    client.execute_sql(
        f"create table if not exists {TABLE} ("
        "source varchar not null, path varchar primary key, size bigint not null, "
        "mtime_ns bigint not null, loaded_at timestamptz not null default current_timestamp)"
    )
    for start in range(0, len(rows), ROWS_PER_STATEMENT):
        part = rows[start:start + ROWS_PER_STATEMENT]
        client.execute_sql(
            f"insert into {TABLE} (source, path, size, mtime_ns) values "
            + ", ".join(["(%s, %s, %s, %s)"] * len(part))
            + " on conflict (path) do update set source = excluded.source, size = excluded.size, "
              "mtime_ns = excluded.mtime_ns, loaded_at = now()",
            *(value for row in part for value in row))
