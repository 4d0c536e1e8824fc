"""The command line as a user meets it: the demo run, the CI gate, and mistakes a user can make."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("cli")
    warehouse = root / "wh" / "demo.duckdb"
    return warehouse, cli("run", "--warehouse", str(warehouse), cwd=root)


def test_demo_run_exits_0_and_shows_the_failures_it_found(demo):
    warehouse, run = demo
    assert run.returncode == 0, run.stderr
    out = run.stdout
    for stage in ("generate the demo shop", "load inputs (dlt)", "dbt build", "Great Expectations",
                  "write the report (HTML)"):
        assert stage in out
    assert "orders: 2,094 rows read, 2,094 loaded" in out
    assert "conversion_gap: FAILED for meta, tiktok" in out
    assert "[   FAIL] conversion_gap: Meta counted" in out
    assert "3 failing check(s) of 21." in out
    assert "Data Docs:" in out
    # progress on the long step: dbt's nodes as they finish, with the time so far
    assert re.search(r"^    \d+ of \d+ done \(\d+\.\d s\)$", out, re.M)
    # the run ends by saying where the report is
    report = warehouse.parent / "report" / "signal_audit_report.html"
    assert out.rstrip().splitlines()[-1] == f"Report: {report}"
    assert report.stat().st_size > 1_000_000  # plotly.js is inside: the file opens offline


def test_check_gates_ci_with_exit_1(demo):
    warehouse, _ = demo
    check = cli("check", "--warehouse", str(warehouse), cwd=warehouse.parent)
    assert check.returncode == 1
    assert "pii_hashing: FAILED for tiktok" in check.stdout
    card = cli("scorecard", "--warehouse", str(warehouse), cwd=warehouse.parent)
    assert card.returncode == 0 and "Signal scorecard, 2026-10-02 to 2026-10-31" in card.stdout


def test_two_audits_side_by_side_can_each_write_their_own_target_logs_and_gx(demo, tmp_path: Path):
    """dbt's DBT_TARGET_PATH and DBT_LOG_PATH, and $SIGNAL_AUDIT_GX_DIR, move what a build and a
    check write out of the project's target/, logs/ and gx/ (docs/checks.md)."""
    warehouse = tmp_path / "w" / "demo.duckdb"
    warehouse.parent.mkdir()
    shutil.copy(demo[0], warehouse)
    mine = {"DBT_TARGET_PATH": tmp_path / "t", "DBT_LOG_PATH": tmp_path / "l", "SIGNAL_AUDIT_GX_DIR": tmp_path / "g"}
    env = {**os.environ, **{var: str(folder) for var, folder in mine.items()}}
    build = cli("build", "--full-refresh", "--warehouse", str(warehouse), cwd=tmp_path, env=env)
    assert build.returncode == 0, build.stdout + build.stderr
    assert (tmp_path / "t" / "run_results.json").is_file() and (tmp_path / "t" / "manifest.json").is_file()
    assert (tmp_path / "l" / "dbt.log").is_file()
    check = cli("check", "--warehouse", str(warehouse), cwd=tmp_path, env=env)
    assert check.returncode == 1  # the broken demo, judged as before
    docs = tmp_path / "g" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    assert f"Data Docs: {docs}" in check.stdout
    assert (tmp_path / "g" / "great_expectations.yml").is_file()


def test_gate_passes_a_healthy_shop(tmp_path: Path):
    run = cli("run", "--gate", "--demo-profile", "healthy", "--warehouse", str(tmp_path / "h.duckdb"), cwd=tmp_path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 failing check(s) of 21." in run.stdout


def test_gate_fails_a_broken_shop(tmp_path: Path):
    run = cli("run", "--gate", "--warehouse", str(tmp_path / "b.duckdb"), cwd=tmp_path)
    assert run.returncode == 1
    assert "3 failing check(s) of 21." in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["load", "--orders", "nowhere/*.csv"], "orders: no file matches 'nowhere/*.csv'"),
        (["load", "--orders", "missing.csv"], "orders: file 'missing.csv' does not exist"),
        (["load"], "no inputs: pass --orders"),
        (["scorecard", "--warehouse", "none.duckdb"], "no warehouse at"),
    ],
)
def test_user_mistakes_get_one_sentence_and_exit_2(tmp_path: Path, args, message):
    result = cli(*args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_bad_setting_in_config_file(tmp_path: Path):
    (tmp_path / "signal_audit.yml").write_text("audit:\n  gap_threshold: 10\n")
    result = cli("build", cwd=tmp_path)
    assert result.returncode == 2
    assert "'gap_threshold' must be a fraction between 0 and 1, got 10" in result.stderr


def test_busy_warehouse_is_named(tmp_path: Path):
    warehouse = tmp_path / "busy.duckdb"
    hold = f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}); print('held', flush=True); time.sleep(60)"
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        result = cli("build", "--warehouse", str(warehouse), cwd=tmp_path)
        assert result.returncode == 2
        assert "is in use by another process" in result.stderr
    finally:
        holder.kill()
        holder.wait()
    duckdb.connect(str(warehouse)).close()  # free again once the holder is gone
