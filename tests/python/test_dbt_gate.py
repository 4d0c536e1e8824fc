"""Plain `dbt build` is the product: it gates CI by itself, is never stale after a change of
settings, seeds or SQL, and on a clean clone says what to load instead of failing.

Everything here runs dbt the way a user or a CI job does: from a project folder, with the
profile in it and the warehouse in SIGNAL_AUDIT_WAREHOUSE.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from test_incremental import MARTS, marts

from signal_audit.transform import dbt_executable
from signal_audit_core.config import PROJECT_DIR, WAREHOUSE_ENV

# what a clean clone holds of the dbt project (no .venv, target, logs or warehouse)
_PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")


def dbt(project: Path, warehouse: Path | None, *args: str) -> subprocess.CompletedProcess[str]:
    """`dbt <args> --profiles-dir .` from the project folder, as the README says."""
    # target/ where plain dbt puts it (the project's), not this worker's (conftest.py)
    env = {k: v for k, v in os.environ.items() if k not in (WAREHOUSE_ENV, "DBT_TARGET_PATH")}
    env["DO_NOT_TRACK"] = "1"
    if warehouse is not None:
        env[WAREHOUSE_ENV] = str(warehouse)
    return subprocess.run([dbt_executable(), *args, "--profiles-dir", "."], cwd=project, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def copy_project(root: Path) -> Path:
    for name in _PROJECT_FILES:
        source, target = PROJECT_DIR / name, root / name
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source, target)
    return root


def copy_warehouse(audited_warehouse: Path, to: Path) -> Path:
    to.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(audited_warehouse, to)  # dbt opens it read-write: never the shared one
    return to


def scorecard(warehouse: Path, status: str) -> list[tuple[str, str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select platform, check_name, summary from marts.rpt_signal_scorecard "
                           "where status = ? order by 1, 2", [status]).fetchall()
    finally:
        con.close()


def gate_results(project: Path) -> dict[str, str]:
    results = json.loads((project / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["status"] for r in results
            if r["unique_id"].split(".")[-1] in ("signal_checks_failing", "signal_checks_warning")}


# --- item 4: dbt build is a CI gate -------------------------------------------------------

def test_plain_dbt_build_fails_on_the_broken_demo_naming_each_failing_check(audited, tmp_path: Path):
    warehouse = copy_warehouse(audited("broken").warehouse, tmp_path / "w" / "audit.duckdb")
    ran = dbt(PROJECT_DIR, warehouse, "build", "--target-path", str(tmp_path / "target"))

    assert ran.returncode == 1, ran.stdout[-3000:]
    failing, warning = scorecard(warehouse, "fail"), scorecard(warehouse, "warn")
    assert {(p, c) for p, c, _ in failing} == {("meta", "conversion_gap"), ("tiktok", "conversion_gap"),
                                               ("tiktok", "pii_hashing")}
    for platform, check, summary in failing:  # platform, check and its sentence, each on a line
        assert f"FAIL {platform} {check}: {summary}" in ran.stdout
    for platform, check, summary in warning:
        assert f"WARN {platform} {check}: {summary}" in ran.stdout
    assert "Failure in test signal_checks_failing" in ran.stdout
    assert "Warning in test signal_checks_warning" in ran.stdout
    assert "ERROR=1 " in ran.stdout  # the gate, and nothing else


def test_plain_dbt_build_passes_on_the_healthy_demo(audited, tmp_path: Path):
    warehouse = copy_warehouse(audited("healthy").warehouse, tmp_path / "w" / "audit.duckdb")
    ran = dbt(PROJECT_DIR, warehouse, "build", "--target-path", str(tmp_path / "target"))

    assert ran.returncode == 0, ran.stdout[-3000:]
    assert scorecard(warehouse, "fail") == []
    assert "FAIL " not in ran.stdout and "ERROR=0 " in ran.stdout


@pytest.mark.parametrize(("gate_on", "code", "failing", "warning"), [
    ("fail", 1, "fail", "warn"),
    ("warn", 1, "fail", "fail"),   # a warning check gates too
    ("none", 0, "warn", "warn"),   # both only warn: what `signal-audit run` builds with
])
def test_gate_on_chooses_what_fails_the_build(audited, tmp_path: Path, gate_on: str, code: int,
                                              failing: str, warning: str):
    project = copy_project(tmp_path / "project")
    warehouse = copy_warehouse(audited("broken").warehouse, tmp_path / "w" / "audit.duckdb")
    ran = dbt(project, warehouse, "build", "--select", "rpt_signal_scorecard", "--vars", f"{{gate_on: {gate_on}}}")

    assert ran.returncode == code, ran.stdout[-3000:]
    assert gate_results(project) == {"signal_checks_failing": failing, "signal_checks_warning": warning}


def test_an_unknown_gate_on_is_one_sentence(audited, tmp_path: Path):
    warehouse = copy_warehouse(audited("broken").warehouse, tmp_path / "w" / "audit.duckdb")
    ran = dbt(PROJECT_DIR, warehouse, "build", "--select", "rpt_signal_scorecard", "--vars", "{gate_on: fails}",
              "--target-path", str(tmp_path / "target"))

    assert ran.returncode == 2
    assert "The var gate_on must be fail, warn or none, got 'fails'." in ran.stdout
    assert "Traceback" not in ran.stdout + ran.stderr


# --- item 5: plain dbt is never stale ---------------------------------------------------------

def _same_marts_as_a_full_rebuild(audited, tmp_path: Path, change, *args: str) -> dict[str, list[tuple]]:
    """Build the audited broken warehouse incrementally after `change(project)`, and a copy of
    it with --full-refresh: every mart row must be the same. The marts before the change."""
    project = copy_project(tmp_path / "project")
    before = copy_warehouse(audited("broken").warehouse, tmp_path / "before" / "audit.duckdb")
    incremental = copy_warehouse(before, tmp_path / "incremental" / "audit.duckdb")
    full = copy_warehouse(before, tmp_path / "full" / "audit.duckdb")
    change(project)
    vars_ = ["--vars", json.dumps({"gate_on": "none", **{k: float(v) for k, v in (a.split("=") for a in args)}})]
    # unit tests pin the project's own rules, which `change` may alter on purpose: not built here
    for warehouse, full_refresh in ((incremental, []), (full, ["--full-refresh"])):
        ran = dbt(project, warehouse, "build", *full_refresh, *vars_, "--exclude-resource-type", "unit_test",
                  "--target-path", str(warehouse.parent / "target"))
        assert ran.returncode == 0, ran.stdout[-3000:]
    got, expected = marts(incremental), marts(full)
    for mart in MARTS:
        assert got[mart] == expected[mart], mart
    return marts(before)


def _statuses(rows: list[tuple]) -> list[str]:
    return sorted(r[-1] for r in rows)  # fct_conversion_gap_daily ends with status


def test_a_new_threshold_through_vars_rebuilds_what_it_affects(audited, tmp_path: Path):
    before = _same_marts_as_a_full_rebuild(audited, tmp_path, lambda project: None, "gap_threshold=0.25")
    after = marts(tmp_path / "incremental" / "audit.duckdb")
    # the threshold moved days from gap to ok: without a rebuild the daily statuses would stay
    assert _statuses(after["fct_conversion_gap_daily"]) != _statuses(before["fct_conversion_gap_daily"])
    # only what reads the threshold is rebuilt in full; the event models stay incremental
    assert not built_incrementally(tmp_path / "incremental", "marts/fct_conversion_gap_daily")
    assert built_incrementally(tmp_path / "incremental", "marts/fct_dedup_daily")
    assert built_incrementally(tmp_path / "incremental", "staging/delivery_log/stg_meta__events")


def built_incrementally(build: Path, model: str) -> bool:
    """Whether the model's last build (in `build`/target) read only what changed."""
    compiled = (build / "target" / "compiled" / "signal_audit" / "models" / f"{model}.sql").read_text()
    return "_audited_at > cast(" in compiled or "_dlt_load_id > '" in compiled


def test_a_changed_seed_rebuilds_what_reads_it(audited, tmp_path: Path):
    def lower_email_weight(project: Path) -> None:
        weights = project / "seeds" / "match_score_weights.csv"
        text = weights.read_text()
        assert "email,4.0," in text
        weights.write_text(text.replace("email,4.0,", "email,3.0,"))

    before = _same_marts_as_a_full_rebuild(audited, tmp_path, lower_email_weight)
    after = marts(tmp_path / "incremental" / "audit.duckdb")
    assert after["fct_match_quality_daily"] != before["fct_match_quality_daily"]
    assert not built_incrementally(tmp_path / "incremental", "intermediate/int_event_flags")
    assert built_incrementally(tmp_path / "incremental", "staging/delivery_log/stg_meta__events")


def test_changed_model_sql_rebuilds_it_and_what_reads_it(audited, tmp_path: Path):
    def count_only_paid(project: Path) -> None:
        # upstream of the incremental int_orders: a view whose change reaches every order mart
        model = project / "models" / "staging" / "backend" / "stg_backend__orders.sql"
        text = model.read_text()
        assert "var('counted_statuses')" in text
        model.write_text(text.replace("var('counted_statuses')", "['paid']"))

    before = _same_marts_as_a_full_rebuild(audited, tmp_path, count_only_paid)
    after = marts(tmp_path / "incremental" / "audit.duckdb")
    assert after["fct_conversion_gap_daily"] != before["fct_conversion_gap_daily"]
    assert not built_incrementally(tmp_path / "incremental", "intermediate/int_orders")
    assert built_incrementally(tmp_path / "incremental", "staging/delivery_log/stg_meta__events")


def test_a_warehouse_built_before_fingerprints_rebuilds_once_then_runs_incrementally(audited, tmp_path: Path):
    warehouse = copy_warehouse(audited("broken").warehouse, tmp_path / "w" / "audit.duckdb")
    con = duckdb.connect(str(warehouse))
    con.execute("alter table intermediate.audit_watermarks drop column fingerprint")
    con.close()
    build = tmp_path / "w"
    for incrementally in (False, True):  # no fingerprint recorded: built as if new; then recorded
        ran = dbt(PROJECT_DIR, warehouse, "run", "--select", "int_orders", "--target-path", str(build / "target"))
        assert ran.returncode == 0, ran.stdout[-3000:]
        assert built_incrementally(build, "intermediate/int_orders") is incrementally


# --- item 6: dbt build on a clean clone ---------------------------------------------------------

def test_a_clean_clone_says_what_to_load_first(tmp_path: Path):
    project = copy_project(tmp_path / "clone")
    assert not (project / "warehouse").exists()
    ran = dbt(project, None, "build")

    assert ran.returncode == 2, ran.stdout[-3000:]
    assert (project / "warehouse" / "signal_audit.duckdb").exists()  # the folder was created
    assert ("No data loaded yet: run `signal-audit load` (or `make audit`) first, then `dbt build`."
            in ran.stdout)
    assert "Traceback" not in ran.stdout + ran.stderr
    assert "SKIP=" not in ran.stdout and "ERROR=" not in ran.stdout  # nothing ran


def test_the_cli_build_on_an_empty_warehouse_says_what_to_load_first(tmp_path: Path):
    signal_audit = Path(dbt_executable()).with_name("signal-audit")
    warehouse = tmp_path / "new" / "audit.duckdb"
    ran = subprocess.run([str(signal_audit), "build", "--warehouse", str(warehouse)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)

    assert ran.returncode == 2  # a user's mistake: nothing loaded yet
    assert ran.stderr.strip() == (f"signal-audit: the warehouse {warehouse} holds no loaded data yet: "
                                  "run `signal-audit load` with your inputs (or `signal-audit run`) first")
    assert "Traceback" not in ran.stderr
