"""Run `dbt build` on the warehouse with the user's audit settings as vars.

dbt runs in its own process: dbt-duckdb keeps its DuckDB handle open for the life of the
process, and DuckDB refuses a second handle with another configuration (the read-only one
the checks use), so sharing a process would lock the checks out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from signal_audit.config import PROJECT_DIR, WAREHOUSE_ENV


@dataclass(frozen=True)
class DbtOutcome:
    success: bool
    nodes: int
    failures: tuple[str, ...]  # "<node>: <message>" for every error or failed test


def dbt_executable() -> str:
    candidate = Path(sys.executable).with_name("dbt")
    return str(candidate) if candidate.exists() else "dbt"


def dbt_build(warehouse: Path, audit_vars: dict[str, Any], target_path: Path | None = None) -> DbtOutcome:
    target = target_path or PROJECT_DIR / "target"
    command = [
        dbt_executable(), "build",
        "--project-dir", str(PROJECT_DIR),
        "--profiles-dir", str(PROJECT_DIR),
        "--target-path", str(target),
        "--vars", json.dumps(audit_vars),
        "--quiet",
    ]
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)  # never read a previous run's results
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse)}
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if not results_file.exists():
        message = (completed.stderr or completed.stdout).strip() or f"exit code {completed.returncode}"
        return DbtOutcome(False, 0, (f"dbt could not run: {message}",))
    results = json.loads(results_file.read_text())["results"]
    failures = tuple(
        f"{r['unique_id']}: {(r.get('message') or '').strip()}"
        for r in results
        if r["status"] in ("error", "fail")
    )
    return DbtOutcome(completed.returncode == 0, len(results), failures)
