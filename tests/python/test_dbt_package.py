"""signal-audit as a dbt package: a shop's own dbt project (tests/fixtures/host_project) installs
it through packages.yml (a local path), points it at its own raw schema with the var
signal_audit_raw_schema, keeps its own schema naming (dbt's default), and gets the same marts,
row for row, as the standalone project builds from the same raw tables.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from test_incremental import MARTS, _rounded

from signal_audit.transform import dbt_executable
from signal_audit_core.config import PROJECT_DIR

pytestmark = pytest.mark.slow

HOST_PROJECT = Path(__file__).resolve().parents[1] / "fixtures" / "host_project"
RAW_SCHEMA = "shop_raw"  # the host's name for the raw schema (its dbt_project.yml vars)
# the host's target schema is `analytics` (its profiles.yml); dbt's default naming appends the
# package's custom schemas to it
SCHEMAS = {"analytics", "analytics_staging", "analytics_intermediate", "analytics_marts",
           "analytics_scorecard", "analytics_reference", "analytics_semantic", RAW_SCHEMA}
# the scorecard gate (tests/dbt/signal_checks_*.sql, macros/gate.sql): the broken demo fails it
GATE_TESTS = {"signal_checks_failing", "signal_checks_warning"}


def host_dbt(host: Path, warehouse: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # as in the host's own shell: no setting of this project's, target/ in the host project
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIGNAL_AUDIT_") and k != "DBT_TARGET_PATH"}
    env |= {"DO_NOT_TRACK": "1", "HOST_WAREHOUSE": str(warehouse),
            # offline: `dbt deps` of a local path must not reach the network; any attempt goes
            # to a port where nothing listens
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
    return subprocess.run([dbt_executable(), *args, "--profiles-dir", "."], cwd=host, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def land_raw_tables(audited_warehouse: Path, warehouse: Path) -> None:
    """The raw tables signal-audit's loader landed, copied into the host's `shop_raw` schema
    (what `signal-audit load` wrote, under the name the host chose)."""
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(f"attach '{audited_warehouse}' as audited (read_only)")
        con.execute(f"create schema {RAW_SCHEMA}")
        tables = con.execute("select table_name from information_schema.tables "
                             "where table_catalog = 'audited' and table_schema = 'raw'").fetchall()
        for (table,) in tables:
            con.execute(f'create table {RAW_SCHEMA}."{table}" as select * from audited.raw."{table}"')
        con.execute("detach audited")
    finally:
        con.close()


def rows(warehouse: Path, schema: str) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {m: sorted((_rounded(r) for r in con.execute(f"select * from {schema}.{m}").fetchall()), key=repr)
                for m in MARTS}
    finally:
        con.close()


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def failed_nodes(host: Path) -> set[str]:
    results = json.loads((host / "target" / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[2] for r in results if r["status"] in ("fail", "error")}


def test_a_host_project_builds_the_package_with_its_own_raw_schema_and_naming(audited, tmp_path: Path):
    shop = audited("broken")
    host = tmp_path / "host"
    shutil.copytree(HOST_PROJECT, host)
    # the fixture's relative path points at this repository from where it lies; from the copy, spell it out
    (host / "packages.yml").write_text(f"packages:\n  - local: {PROJECT_DIR}\n")
    warehouse = tmp_path / "host.duckdb"
    land_raw_tables(shop.warehouse, warehouse)

    deps = host_dbt(host, warehouse, "deps")
    assert deps.returncode == 0, deps.stdout[-3000:]
    assert (host / "dbt_packages" / "signal_audit" / "dbt_project.yml").exists()

    built = host_dbt(host, warehouse, "build", "--vars", "{gate_on: none}")
    assert built.returncode == 0, built.stdout[-5000:]

    schemas = {s for (s,) in query(warehouse, "select schema_name from information_schema.schemata "
                                              "where catalog_name = 'host'")} - {"main"}
    assert schemas == SCHEMAS
    standalone = rows(shop.warehouse, "marts")
    assert rows(warehouse, "analytics_marts") == standalone
    # the host's own model on top of a mart
    failing = sorted(query(shop.warehouse, "select platform, check_name, summary from marts.rpt_signal_scorecard "
                                           "where status = 'fail'"))
    assert failing
    assert sorted(query(warehouse, "select * from analytics.failing_signal_checks")) == failing
    # the package's hooks kept their state beside its intermediate models
    assert query(warehouse, "select count(*) from analytics_intermediate.audit_watermarks")[0][0] > 0
    assert query(warehouse, "select count(*) from analytics_intermediate.audit_build_state")[0][0] > 0

    # the next build is incremental; with the gate on (its default) only the gate fails
    again = host_dbt(host, warehouse, "build")
    assert again.returncode == 1, again.stdout[-5000:]
    assert failed_nodes(host) <= GATE_TESTS and failed_nodes(host), again.stdout[-5000:]
    assert rows(warehouse, "analytics_marts") == standalone
