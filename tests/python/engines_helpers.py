"""Helpers for running the audit's dbt project on engines other than DuckDB.

`copy_raw_to_postgres` mirrors what the loaders landed in a DuckDB warehouse (schema `raw`)
into a `raw` schema in PostgreSQL, so the same data can be built on both engines and the marts
compared. It is a stand-in: dlt landing straight into PostgreSQL is being built beside it
(the postgres destination, configured through DESTINATION__POSTGRES__CREDENTIALS__*), and
will replace this copy in the engine tests once it lands. Until then the copy keeps the types
dlt gives DuckDB (timestamptz, bigint, integer, double precision, text, boolean, date), so the
models read the same types they would read from dlt.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from signal_audit_core.config import PROJECT_DIR

# DuckDB's type names (information_schema) -> PostgreSQL's, for the types dlt lands
_PG_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIMESTAMP": "timestamp",
    "JSON": "jsonb",
}


def _csv_field(value: Any) -> str:
    """One value in PostgreSQL's CSV COPY format: null unquoted and empty, text always quoted
    (so an empty string stays an empty string), floats with every digit."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return '"' + str(value).replace('"', '""') + '"'


def copy_raw_to_postgres(warehouse: Path, pg_url: str, schema: str = "raw") -> dict[str, int]:
    """Make PostgreSQL's `schema` hold exactly the DuckDB warehouse's `raw` tables: each table
    is created (if new) with the same columns and types, emptied and filled again. Replacing
    rather than appending keeps the mirror faithful where dlt merged on a key (an order
    re-exported in a later load replaces its row) and costs little on a test shop. Returns the
    rows copied per table."""
    import psycopg2

    copied: dict[str, int] = {}
    duck = duckdb.connect(str(warehouse), read_only=True)
    pg = psycopg2.connect(pg_url)
    try:
        tables = [row[0] for row in duck.execute(
            "select table_name from information_schema.tables where table_schema = 'raw' order by table_name"
        ).fetchall()]
        with pg, pg.cursor() as cur:
            cur.execute(f'create schema if not exists "{schema}"')
            for table in tables:
                columns = duck.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = 'raw' and table_name = ? order by ordinal_position", [table]
                ).fetchall()
                unknown = [f"{name} {kind}" for name, kind in columns if kind not in _PG_TYPES]
                if unknown:
                    raise ValueError(f"raw.{table}: no PostgreSQL type for {', '.join(unknown)}")
                definition = ", ".join(f'"{name}" {_PG_TYPES[kind]}' for name, kind in columns)
                cur.execute(f'create table if not exists "{schema}"."{table}" ({definition})')
                cur.execute(f'truncate "{schema}"."{table}"')
                rows = duck.execute(f'select * from raw."{table}"').fetchall()
                buffer = io.StringIO()
                for row in rows:
                    buffer.write(",".join(_csv_field(v) for v in row) + "\n")
                buffer.seek(0)
                names = ", ".join(f'"{name}"' for name, _ in columns)
                cur.copy_expert(f'copy "{schema}"."{table}" ({names}) from stdin with (format csv)', buffer)
                copied[table] = len(rows)
    finally:
        pg.close()
        duck.close()
    return copied


def postgres_env(port: int, password: str, database: str, user: str = "shop") -> dict[str, str]:
    """dlt's variables for its postgres destination, which profiles.yml's `postgres` output
    reads too."""
    prefix = "DESTINATION__POSTGRES__CREDENTIALS__"
    return {f"{prefix}HOST": "127.0.0.1", f"{prefix}PORT": str(port), f"{prefix}USERNAME": user,
            f"{prefix}PASSWORD": password, f"{prefix}DATABASE": database}


def run_dbt(args: Sequence[str], env: dict[str, str], target_path: Path) -> subprocess.CompletedProcess[str]:
    """Plain `dbt <args>` on this project in its own process (as a user would run it), with
    `env` added to the environment; fails with dbt's output when dbt does."""
    dbt = Path(sys.executable).with_name("dbt")
    command = [str(dbt) if dbt.exists() else "dbt", *args, "--project-dir", str(PROJECT_DIR),
               "--profiles-dir", str(PROJECT_DIR), "--target-path", str(target_path)]
    done = subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        lines = done.stdout.splitlines()
        failed = [line for line in lines if " ERROR " in line or " FAIL " in line]
        summary = lines[lines.index(next(x for x in lines if "Completed with" in x)):] if any(
            "Completed with" in x for x in lines) else lines[-40:]
        raise AssertionError(f"dbt {' '.join(args)} failed:\n" + "\n".join(failed[:20] + summary[:80])
                             + f"\n{done.stderr[-2000:]}")
    return done
