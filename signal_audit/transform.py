"""Run `dbt build` on the warehouse with the user's audit settings as vars.

dbt runs in its own process: dbt-duckdb keeps its DuckDB handle open for the life of the
process, and DuckDB refuses a second handle with another configuration (the read-only one
the checks use), so sharing a process would lock the checks out.

The event-level models and the daily marts are incremental (macros/incremental.sql): a daily
run reads only what arrived. What they hold was computed with the settings, seeds and SQL of
the builds that wrote it, so when any of those changed, the build is a full refresh. The
fingerprint of what the last successful build used is kept in the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from signal_audit.config import PROJECT_DIR, WAREHOUSE_ENV

FINGERPRINT_TABLE = "intermediate.audit_build"
# what a build's results depend on besides the data
_PROJECT_INPUTS = ("dbt_project.yml", "models", "macros", "seeds")


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    nodes: int
    failures: tuple[str, ...]  # "<node>: <message>" for every error or failed test


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


# dbt's structured log events that end a node (model, seed, test, unit test)
_RESULT_EVENTS = {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeNoOpResult"}

Progress = Callable[[int, int, str], None]  # (nodes done, nodes in total, name of the last node)


def build_fingerprint(audit_vars: dict[str, Any]) -> str:
    """SHA-256 of the settings and of every file of the dbt project that shapes the results."""
    digest = hashlib.sha256(json.dumps(audit_vars, sort_keys=True, default=str).encode())
    for name in _PROJECT_INPUTS:
        root = PROJECT_DIR / name
        for path in sorted([root] if root.is_file() else root.rglob("*")):
            if path.is_file():
                digest.update(str(path.relative_to(PROJECT_DIR)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def last_fingerprint(warehouse: Path) -> str | None:
    """The fingerprint of the last successful build of `warehouse`; None when there is none."""
    if not warehouse.exists():
        return None
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        row = con.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = 'intermediate' and table_name = 'audit_build'"
        ).fetchone()
        if not row or not row[0]:
            return None
        found = con.execute(f"select fingerprint from {FINGERPRINT_TABLE}").fetchone()
        return found[0] if found else None
    finally:
        con.close()


def record_fingerprint(warehouse: Path, fingerprint: str) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("create schema if not exists intermediate")
        con.execute(f"create or replace table {FINGERPRINT_TABLE} (fingerprint varchar not null)")
        con.execute(f"insert into {FINGERPRINT_TABLE} values (?)", [fingerprint])
    finally:
        con.close()


def dbt_build(
    warehouse: Path,
    audit_vars: dict[str, Any],
    target_path: Path | None = None,
    progress: Progress | None = None,
    full_refresh: bool = False,
) -> DbtOutcome:
    """`dbt build` in its own process; `progress` is called as each node finishes.

    A full refresh when asked, or when the settings, seeds or SQL differ from those of the
    warehouse's last successful build (or there was none)."""
    fingerprint = build_fingerprint(audit_vars)
    full_refresh = full_refresh or last_fingerprint(warehouse) != fingerprint
    outcome = _run_dbt_build(warehouse, audit_vars, target_path, progress, full_refresh)
    if outcome.success:
        record_fingerprint(warehouse, fingerprint)
    return outcome


def _run_dbt_build(
    warehouse: Path,
    audit_vars: dict[str, Any],
    target_path: Path | None,
    progress: Progress | None,
    full_refresh: bool,
) -> DbtOutcome:
    target = target_path or PROJECT_DIR / "target"
    command = [
        dbt_executable(), "build",
        *(["--full-refresh"] if full_refresh else []),
        # dbt's unit tests pin SQL logic on fixtures, not the user's data: they run in this
        # project's test suite (tests/python/test_dbt_unit_tests.py), as dbt recommends,
        # not in every audit
        "--exclude-resource-type", "unit_test",
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target),
        "--vars", json.dumps(audit_vars),
        "--log-format", "json",  # one event per line on stdout: progress without parsing prose
        "--log-format-file", "text",
    ]
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)  # never read a previous run's results
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse)}
    errors: list[str] = []
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        done = total = 0
        for line in proc.stdout:
            try:
                event = json.loads(line)
                info, data = event["info"], event.get("data", {})
            except (ValueError, KeyError, TypeError):
                if line.strip():
                    errors.append(line.strip())
                continue
            if info.get("level") == "error" and info.get("msg"):
                errors.append(info["msg"])
            total = data.get("total") or data.get("num_models") or total
            if info.get("name") in _RESULT_EVENTS:
                done += 1
                if progress is not None:
                    progress(done, max(total, done), data.get("node_info", {}).get("node_name", ""))
        returncode = proc.wait()
    if not results_file.exists():
        message = "\n".join(errors[-5:]) or f"exit code {returncode}"
        return DbtOutcome(False, 0, (f"dbt could not run: {message}",))
    results = json.loads(results_file.read_text())["results"]
    failures = tuple(
        f"{r['unique_id']}: {(r.get('message') or '').strip()}"
        for r in results
        if r["status"] in ("error", "fail")
    )
    return DbtOutcome(returncode == 0, len(results), failures)
