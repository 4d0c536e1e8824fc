"""The small tables' assertions run as one test node per layer (macros/folded_tests.sql), and
each still fails on what it always failed on, naming itself in the failing rows."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
from test_dbt_gate import copy_warehouse, dbt

from signal_audit_core.config import PROJECT_DIR

FOLDED = ("scorecard_integrity", "report_marts_integrity", "seeds_integrity")


def _run_folded(warehouse: Path) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Each folded test's failure count, and the assertions its failing rows name."""
    target = warehouse.parent / "target"
    ran = dbt(PROJECT_DIR, warehouse, "test", "--select", *FOLDED, "--target-path", str(target),
              "--vars", '{"gate_on": "none"}')
    results = json.loads((target / "run_results.json").read_text())["results"]
    failures = {r["unique_id"].split(".")[2]: r["failures"] for r in results if r["unique_id"].startswith("test.")}
    named = {}
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for name in FOLDED:
            sql = next(target.rglob(f"compiled/**/{name}.sql")).read_text()
            named[name] = sorted(row[0] for row in con.execute(sql).fetchall())
    finally:
        con.close()
    assert set(failures) == set(FOLDED), ran.stdout[-3000:]
    return failures, named


def test_the_folded_tests_pass_on_a_built_warehouse(audited, tmp_path: Path):
    warehouse = copy_warehouse(audited("broken").warehouse, tmp_path / "w" / "audit.duckdb")
    failures, named = _run_folded(warehouse)
    assert failures == {name: 0 for name in FOLDED}
    assert named == {name: [] for name in FOLDED}


def test_each_folded_assertion_still_fails_and_says_which(audited, tmp_path: Path):
    warehouse = copy_warehouse(audited("broken").warehouse, tmp_path / "w" / "audit.duckdb")
    con = duckdb.connect(str(warehouse))
    # a check model with a platform twice and one without a platform (found through the
    # scorecard's list of check models)
    con.execute("insert into scorecard.check__timeliness select * from scorecard.check__timeliness "
                "where platform = 'meta'")
    con.execute("insert into scorecard.check__pii_hashing select * replace (null as platform) "
                "from scorecard.check__pii_hashing where platform = 'snap'")
    con.execute("update marts.rpt_signal_scorecard set status = 'unknown' "
                "where platform = 'meta' and check_name = 'deduplication'")
    con.execute("update marts.rpt_gap_waterfall set step_kind = 'multiply' "
                "where platform = 'tiktok' and step = 'orders_rejected'")
    con.execute("update marts.rpt_match_key_coverage set events_with_key = events + 1, coverage_pct = 1.5 "
                "where platform = 'meta' and match_key = 'email'")
    con.execute("insert into marts.audit_settings select * from marts.audit_settings "
                "where setting_name = 'gap_threshold'")
    con.execute("update reference.checks set display_order = 1, floor_setting = 'no_such_setting' "
                "where check_name = 'timeliness'")
    con.close()
    failures, named = _run_folded(warehouse)
    assert named["scorecard_integrity"] == [
        "accepted_values rpt_signal_scorecard.status",
        "not_null check__pii_hashing.platform",
        "unique check__timeliness.platform",
    ]
    assert named["report_marts_integrity"] == [
        "accepted_values rpt_gap_waterfall.step_kind",
        "fraction rpt_match_key_coverage.coverage_pct",
        "ordered_counts rpt_match_key_coverage (events_with_key <= events)",
        "unique audit_settings.setting_name",
    ]
    assert named["seeds_integrity"] == [
        "relationships checks.floor_setting to audit_settings",
        "unique checks.display_order",
    ]
    assert failures == {"scorecard_integrity": 3, "report_marts_integrity": 4, "seeds_integrity": 2}
