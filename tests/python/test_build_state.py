"""A run with nothing new skips dbt, and only then (macros/build_state.sql).

After a build, every node records what it was built from and the data it saw; `signal-audit
build` skips dbt when nothing of either changed, and reloads no seed whose file is unchanged.
Staleness must never come back: a changed setting, model, test or seed, or new data, after a
skipped build is built.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb
import pytest
from test_dbt_gate import copy_project, copy_warehouse, dbt
from test_incremental import marts

from signal_audit.transform import dbt_executable

SKIPPED = "nothing new since the last build"
SEEDS_SKIPPED = "seeds unchanged since they were loaded, not reloaded"


def signal_audit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run([str(Path(dbt_executable()).with_name("signal-audit")), *args], cwd=cwd,
                         capture_output=True, text=True, timeout=900, check=False)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-2000:]
    return ran


def state(project: Path, warehouse: Path, *args: str) -> dict:
    ran = dbt(project, warehouse, "--quiet", "run-operation", "audit_build_state",
              "--target-path", str(warehouse.parent / "target"), *args)
    assert ran.returncode == 0, ran.stdout[-3000:]
    return json.loads(ran.stdout.strip().splitlines()[-1])


@pytest.fixture()
def warehouse(audited, tmp_path: Path) -> Path:
    return copy_warehouse(audited("broken").warehouse, tmp_path / "w" / "audit.duckdb")


def test_a_build_with_nothing_new_is_skipped_and_keeps_every_mart(warehouse: Path, tmp_path: Path):
    before = marts(warehouse)
    ran = signal_audit("build", "--warehouse", str(warehouse), cwd=tmp_path)
    assert SKIPPED in ran.stdout
    assert marts(warehouse) == before


def test_a_changed_setting_after_a_skipped_build_is_built(warehouse: Path, tmp_path: Path):
    signal_audit("build", "--warehouse", str(warehouse), cwd=tmp_path)  # skipped: nothing new
    before = marts(warehouse)
    config = tmp_path / "signal_audit.yml"
    config.write_text("audit:\n  gap_threshold: 0.25\n")
    ran = signal_audit("build", "--warehouse", str(warehouse), "--config", str(config), cwd=tmp_path)
    assert SKIPPED not in ran.stdout
    assert SEEDS_SKIPPED in ran.stdout  # a setting is not a seed: the seeds stay as loaded
    after = marts(warehouse)
    assert after["fct_conversion_gap_daily"] != before["fct_conversion_gap_daily"]
    # and built with it, the next build with the same setting is skipped again
    ran = signal_audit("build", "--warehouse", str(warehouse), "--config", str(config), cwd=tmp_path)
    assert SKIPPED in ran.stdout


def test_new_data_after_a_skipped_build_is_built(warehouse: Path, tmp_path: Path):
    signal_audit("build", "--warehouse", str(warehouse), cwd=tmp_path)
    con = duckdb.connect(str(warehouse))
    # a re-exported order: merged into its row by a later load, the row count unchanged
    con.execute("update raw.orders set _dlt_load_id = '9999999999.0', status = 'cancelled' "
                "where order_id = (select min(order_id) from raw.orders where status = 'paid')")
    con.close()
    ran = signal_audit("build", "--warehouse", str(warehouse), cwd=tmp_path)
    assert SKIPPED not in ran.stdout and SEEDS_SKIPPED in ran.stdout


@pytest.mark.parametrize("change, seeds_current", [
    (lambda p: _replace(p / "models" / "staging" / "backend" / "stg_backend__orders.sql",
                        "var('counted_statuses')", "['paid']"), True),
    (lambda p: _replace(p / "seeds" / "match_score_weights.csv", "email,4.0,", "email,3.0,"), False),
    (lambda p: _replace(p / "tests" / "dbt" / "signal_checks_warning.sql", "\n", "\n\n"), True),
    (lambda p: _replace(p / "macros" / "verdict.sql", "then 'no_data'", "then  'no_data'"), True),
    (lambda p: _replace(p / "dbt_project.yml", "+persist_docs: {relation: true, columns: true}",
                        "+persist_docs: {relation: true, columns: false}"), True),
], ids=["model", "seed", "test", "macro", "config"])
def test_any_change_of_the_project_is_not_current(warehouse: Path, tmp_path: Path, change, seeds_current: bool):
    project = copy_project(tmp_path / "project")
    gate = ("--vars", '{"gate_on": "none"}')  # the CLI's build (the fixture's) passes it
    assert state(project, warehouse, *gate) == {"current": True, "seeds_current": True, "stale_nodes": 0}
    change(project)
    found = state(project, warehouse, *gate)
    assert found["current"] is False and found["stale_nodes"] > 0
    assert found["seeds_current"] is seeds_current


def test_a_warehouse_without_recorded_state_is_not_current(warehouse: Path, tmp_path: Path):
    con = duckdb.connect(str(warehouse))
    con.execute("drop table intermediate.audit_build_state")
    con.close()
    project = copy_project(tmp_path / "project")
    assert state(project, warehouse) == {"current": False, "seeds_current": False,
                                         "stale_nodes": state(project, warehouse)["stale_nodes"]}


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
