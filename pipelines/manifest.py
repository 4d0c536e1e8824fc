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

import duckdb
import pyarrow as pa

TABLE = "raw._loaded_files"


def stamp(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def loaded(warehouse: Path) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime_ns) of every file an earlier run loaded."""
    if not warehouse.exists():
        return {}
    con = duckdb.connect(str(warehouse))
    try:
        exists = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'raw' and table_name = '_loaded_files'"
        ).fetchone()[0]
        if not exists:
            return {}
        rows = con.execute(f"select path, size, mtime_ns from {TABLE}").fetchall()
        return {path: (size, mtime) for path, size, mtime in rows}
    finally:
        con.close()


def new_or_changed(files: Sequence[Path], known: Mapping[str, tuple[int, int]]) -> list[Path]:
    return [p for p in files if known.get(str(p)) != stamp(p)]


def record(warehouse: Path, files: Mapping[str, Sequence[Path]]) -> None:
    """Remember `files` (by source) as loaded, with their size and time as read."""
    # by path: a file given for two sources is recorded once, for the last (as row-by-row
    # `insert or replace` did; one statement may not replace a row twice)
    rows = {str(p): (source, str(p), *stamp(p)) for source, paths in files.items() for p in paths}
    if not rows:
        return
    columns = list(zip(*rows.values(), strict=True))
    new_files = pa.table(dict(zip(("source", "path", "size", "mtime_ns"), columns, strict=True)))
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists raw")
        con.execute(
            f"create table if not exists {TABLE} ("
            "source varchar not null, path varchar primary key, size bigint not null, "
            "mtime_ns bigint not null, loaded_at timestamptz not null default current_timestamp)"
        )
        # one statement: executemany takes about 2 ms a row, 0.7 s for a year of daily files
        con.register("new_files", new_files)
        con.execute(f"insert or replace into {TABLE} (source, path, size, mtime_ns) "
                    "select source, path, size, mtime_ns from new_files")
    finally:
        con.close()
