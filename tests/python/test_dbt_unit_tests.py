"""dbt's unit tests (every `unit_tests:` YAML under models/): the trickiest SQL and every rule's
edges on inline rows with known answers.

Audits skip them (they test the project, not the user's data); this runs every one of them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from signal_audit.config import PROJECT_DIR, WAREHOUSE_ENV
from signal_audit.transform import dbt_executable


def test_every_dbt_unit_test_passes(audited, tmp_path: Path):
    warehouse = tmp_path / "audit.duckdb"
    shutil.copy(audited("broken").warehouse, warehouse)  # dbt opens it read-write: never the shared one
    target = tmp_path / "target"
    ran = subprocess.run(
        [dbt_executable(), "test", "--select", "test_type:unit", "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target-path", str(target)],
        env={**os.environ, WAREHOUSE_ENV: str(warehouse), "DO_NOT_TRACK": "1"},
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    results = [r for r in json.loads((target / "run_results.json").read_text())["results"]
               if r["unique_id"].startswith("unit_test.")]
    assert {r["status"] for r in results} == {"pass"}
    defined = sum(_unit_tests_defined(path) for path in (PROJECT_DIR / "models").rglob("*.yml"))
    assert len(results) == defined >= 15


def _unit_tests_defined(path: Path) -> int:
    return len((yaml.safe_load(path.read_text()) or {}).get("unit_tests") or [])
