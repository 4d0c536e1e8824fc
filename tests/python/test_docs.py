"""The dbt docs an analyst lives in: generated offline, every mart and column described."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from signal_audit.transform import dbt_executable
from signal_audit_core.config import PROJECT_DIR, WAREHOUSE_ENV


@pytest.fixture(scope="module")
def docs(audited, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, dict]:
    root = tmp_path_factory.mktemp("docs")
    warehouse = root / "audit.duckdb"
    shutil.copy(audited("broken").warehouse, warehouse)  # dbt opens it read-write: never the shared one
    target = root / "target"
    env = {
        **os.environ,
        WAREHOUSE_ENV: str(warehouse),
        "DO_NOT_TRACK": "1",
        # offline: any attempt to reach the network goes to a port where nothing listens
        "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
    }
    generated = subprocess.run(
        [dbt_executable(), "docs", "generate", "--static", "--project-dir", str(PROJECT_DIR),
         "--profiles-dir", str(PROJECT_DIR), "--target-path", str(target)],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert generated.returncode == 0, generated.stdout[-3000:] + generated.stderr[-3000:]
    manifest = json.loads((target / "manifest.json").read_text())
    catalog = json.loads((target / "catalog.json").read_text())
    return target, manifest, catalog


def models(manifest: dict, folder: str) -> dict[str, dict]:
    return {
        node["name"]: node for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["original_file_path"].startswith(f"models/{folder}/")
    }


def undescribed(manifest: dict, catalog: dict, folder: str) -> list[str]:
    """Columns that exist in the warehouse (the catalog) without a description in the docs."""
    missing = []
    for name, node in models(manifest, folder).items():
        if not node["description"].strip():
            missing.append(name)
        columns = catalog["nodes"][node["unique_id"]]["columns"]
        described = {c.lower(): col["description"] for c, col in node["columns"].items()}
        missing += [f"{name}.{c}" for c in columns if not described.get(c.lower(), "").strip()]
    return missing


def test_docs_generate_offline_into_one_static_page(docs):
    target, _, _ = docs
    page = target / "static_index.html"
    assert page.exists() and page.stat().st_size > 500_000  # the docs app with manifest and catalog inside
    assert "rpt_signal_scorecard" in page.read_text(encoding="utf-8")


def test_every_mart_and_mart_column_is_described(docs):
    _, manifest, catalog = docs
    card = models(manifest, "scorecard")["rpt_signal_scorecard"]
    assert card["schema"] == "marts"  # public, beside the marts it judges
    assert undescribed(manifest, catalog, "marts") == []
    assert undescribed(manifest, catalog, "scorecard") == []  # the scorecard and its check models


def test_every_intermediate_and_staging_column_is_described(docs):
    _, manifest, catalog = docs
    assert undescribed(manifest, catalog, "intermediate") == []
    assert undescribed(manifest, catalog, "staging/backend") + undescribed(manifest, catalog, "staging/delivery_log") \
        + undescribed(manifest, catalog, "staging/platform_reports") == []


def test_descriptions_say_units_and_edge_cases(docs):
    _, manifest, _ = docs
    gap = models(manifest, "marts")["fct_conversion_gap_daily"]["columns"]
    assert "Null when the platform's report has no purchase row" in gap["platform_reported_purchases"]["description"]
    assert "signed fraction" in gap["gap_pct"]["description"]
    card = models(manifest, "scorecard")["rpt_signal_scorecard"]["columns"]
    assert "never `pass`" in card["status"]["description"]  # the shared doc block is rendered


def test_exposures_for_the_report_and_a_bi_dashboard(docs):
    _, manifest, _ = docs
    exposures = {e["name"]: e for e in manifest["exposures"].values()}
    assert exposures["signal_audit_report"]["type"] == "analysis"
    assert exposures["tracking_health_dashboard"]["type"] == "dashboard"
    core = {f"model.signal_audit.{name}" for name in (
        "rpt_signal_scorecard", "fct_conversion_gap_daily", "fct_conversion_gap_by_path", "fct_dedup_daily",
        "fct_event_latency_daily", "fct_match_key_coverage_daily", "fct_match_quality_daily")}
    assert core <= set(exposures["tracking_health_dashboard"]["depends_on"]["nodes"])
    # the report's facts are marts (the rpt_ models hold what it computes), never an intermediate model
    report = set(exposures["signal_audit_report"]["depends_on"]["nodes"])
    assert {f"model.signal_audit.{name}" for name in (
        "rpt_signal_scorecard", "rpt_gap_waterfall", "rpt_check_causes", "rpt_match_key_coverage")} <= report
    assert [n for n in report if manifest["nodes"][n]["original_file_path"].startswith(
        ("models/intermediate/", "models/staging/"))] == []
    for exposure in exposures.values():
        assert exposure["owner"]["name"] and exposure["description"]


def test_column_docs_reach_the_warehouse_for_bi_tools(audited):
    """persist_docs: DBeaver and friends show these comments beside the columns."""
    con = duckdb.connect(str(audited("broken").warehouse), read_only=True)
    missing = con.execute(
        "select table_name || '.' || column_name from duckdb_columns() "
        "where schema_name = 'marts' and coalesce(comment, '') = ''"
    ).fetchall()
    con.close()
    assert missing == []


def test_layers_flow_one_way(docs):
    """staging -> intermediate -> marts -> scorecard -> semantic: no model reads a layer after its own."""
    _, manifest, _ = docs
    order = ["staging", "intermediate", "marts", "scorecard", "semantic"]
    layer = {node["unique_id"]: node["original_file_path"].split("/")[1]
             for node in manifest["nodes"].values() if node["resource_type"] == "model"}
    backwards = [(name, parent) for name, node_layer in layer.items()
                 for parent in manifest["nodes"][name]["depends_on"]["nodes"]
                 if parent in layer and order.index(layer[parent]) > order.index(node_layer)]
    assert backwards == []
    assert set(layer.values()) == set(order)
