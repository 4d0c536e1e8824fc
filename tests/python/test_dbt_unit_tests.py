"""dbt's unit tests (every `unit_tests:` YAML under models/): the trickiest SQL and every rule's
edges on inline rows with known answers.

Audits skip them (they test the project, not the user's data); this runs every one of them.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import yaml

from signal_audit.transform import dbt_executable
from signal_audit_core.config import PROJECT_DIR, WAREHOUSE_ENV


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
    defined = [test for path in sorted((PROJECT_DIR / "models").rglob("*.yml"))
               for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])]
    assert sorted(r["unique_id"].rsplit(".", 1)[1] for r in results) == sorted(t["name"] for t in defined)
    # every check the seed declares has its verdict pinned at its edges (models/scorecard/checks/)
    with (PROJECT_DIR / "seeds" / "checks.csv").open(newline="") as fh:
        declared = {f"check__{row['check_name']}" for row in csv.DictReader(fh)}
    assert declared <= {t["model"] for t in defined}
