"""Helpers for auditing on more than one engine and comparing what each built.

- `signal_audit_cli` runs the `signal-audit` command as a user runs it, in its own process,
  optionally with the clock pinned (what Meta's quality snapshots are dated by).
- `run_dbt` runs plain `dbt` on the project in its own process.
- `report_tables` reads every table of the marts and the scorecard from any DB-API connection
  (DuckDB, psycopg2, ...), and `differences` says what differs between two engines' reads,
  floats to 1e-9 relative and text exactly: the engine tests hold every engine to DuckDB's.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from sources_helpers import FAST_RETRIES

from signal_audit_core.config import PROJECT_DIR

# every model of models/marts/** and models/scorecard/**: what an analyst, the checks and the
# report read
REPORT_MODELS = sorted(p.stem for folder in ("marts", "scorecard")
                       for p in (PROJECT_DIR / "models" / folder).rglob("*.sql"))

Tables = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


def postgres_env(port: int, password: str, database: str, user: str = "shop") -> dict[str, str]:
    """dlt's variables for its postgres destination, which profiles.yml's `postgres` output
    reads too."""
    prefix = "DESTINATION__POSTGRES__CREDENTIALS__"
    return {f"{prefix}HOST": "127.0.0.1", f"{prefix}PORT": str(port), f"{prefix}USERNAME": user,
            f"{prefix}PASSWORD": password, f"{prefix}DATABASE": database}


def write_settings(path: Path, graph_url: str, pixel_id: str, audit_vars: dict[str, Any]) -> Path:
    """A signal_audit.yml reading Meta's Graph API at `graph_url` (a local fake) for `pixel_id`,
    retrying fast, with the audit settings `audit_vars`."""
    path.write_text(yaml.safe_dump({
        "sources": {"meta_graph": {"pixel_ids": [pixel_id], "base_url": graph_url},
                    "http": {"max_attempts": FAST_RETRIES.max_attempts,
                             "backoff_factor": FAST_RETRIES.backoff_factor,
                             "max_retry_delay": FAST_RETRIES.max_retry_delay,
                             "timeout": FAST_RETRIES.timeout}},
        "audit": audit_vars,
    }))
    return path


# `signal-audit` with the clock of its loads pinned: run_load's `now` (which dates Meta's
# Dataset Quality snapshots and starts the pixel stats' first read) is the only clock a load
# reads for data; everything else is the command as installed
_PINNED_CLOCK = """
import datetime as dt, sys
import pipelines.load as load
at = dt.datetime.fromisoformat(sys.argv[1])
unpinned = load.run_load
def run_load(config, now=None, **kwargs):
    return unpinned(config, now=now or (lambda: at), **kwargs)
load.run_load = run_load
from signal_audit.cli import main
sys.exit(main(sys.argv[2:]))
"""


def signal_audit_cli(args: Sequence[str], env: dict[str, str], cwd: Path,
                     now: dt.datetime | None = None, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    """`signal-audit <args>` in its own process, run from `cwd` with `env` added to the
    environment; `now` pins the clock of its loads. Fails with the command's output unless
    it exits with a code of `ok` (0; `run --gate` on a shop that fails its checks exits 1)."""
    if now is None:
        installed = Path(sys.executable).with_name("signal-audit")
        command = [str(installed)] if installed.exists() else [sys.executable, "-m", "signal_audit.cli"]
    else:
        command = [sys.executable, "-c", _PINNED_CLOCK, now.isoformat()]
    done = subprocess.run([*command, *args], cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=900, check=False)
    if done.returncode not in ok:
        raise AssertionError(f"signal-audit {' '.join(args)} exited {done.returncode}:\n"
                             f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return done


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


# --- comparing engines ------------------------------------------------------------------------

def report_tables(con: Any, engine: str, models: Sequence[str] = REPORT_MODELS) -> Tables:
    """Each model's (columns, rows) through a DB-API connection of any engine; each model's
    schema is found in the engine's information_schema, and every model must have a table."""
    cur = con.cursor()
    cur.execute("select table_schema, table_name from information_schema.tables "
                "where table_schema in ('marts', 'scorecard')")
    where = {name: schema for schema, name in cur.fetchall()}
    missing = [m for m in models if m not in where]
    assert not missing, f"{engine}: no table for {missing}"
    found = {}
    for model in models:
        cur.execute(f'select * from {where[model]}."{model}"')
        found[model] = ([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])
    return found


def _plain(value: object) -> object:
    # an exact numeric (PostgreSQL's sum of bigints, a decimal) arrives as Decimal, DuckDB's
    # hugeint as int
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _sort_key(row: tuple) -> str:
    return repr(tuple(round(v, 6) if isinstance(v, float) else v for v in row))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


def differences(expected: Tables, got: Tables, names: tuple[str, str] = ("DuckDB", "the other engine")) -> list[str]:
    """What differs between two engines' tables, one line per table that differs (empty:
    identical): the same columns in the same order, the same number of rows, and row for row
    (sorted) the same values, floats to 1e-9 relative, everything else exactly."""
    found = []
    for model, (columns, rows) in expected.items():
        other_columns, other_rows = got[model]
        if columns != other_columns:
            found.append(f"{model}: columns {columns} != {other_columns}")
            continue
        left = sorted((tuple(_plain(v) for v in r) for r in rows), key=_sort_key)
        right = sorted((tuple(_plain(v) for v in r) for r in other_rows), key=_sort_key)
        if len(left) != len(right):
            found.append(f"{model}: {len(left)} rows on {names[0]}, {len(right)} on {names[1]}")
            continue
        for a, b in zip(left, right, strict=True):
            if not all(_same(x, y) for x, y in zip(a, b, strict=True)):
                found.append(f"{model}: {names[0]} {a} != {names[1]} {b}")
                break
    return found
