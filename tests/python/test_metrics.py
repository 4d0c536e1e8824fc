"""The semantic layer (models/semantic/) as a BI tool queries it: MetricFlow's own `mf query` over the
broken demo shop gives, per platform over the audit window, the scorecard's metric_value for every check;
metrics are ratios of sums over any range of days; purchases-only metrics ignore other events; a range
without any platform report has no conversion gap (no data), not 100%."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from signal_audit.transform import dbt_executable
from signal_audit_core.config import PROJECT_DIR, WAREHOUSE_ENV

# scorecard check -> the metric that defines it (field_coverage: field_validity, lowest required field)
CHECK_METRICS = {
    "conversion_gap": "conversion_gap",
    "deduplication": "dedup_rate",
    "email_coverage": "email_coverage",
    "match_quality": "match_quality",
    "timeliness": "on_time_share",
    "pii_hashing": "plaintext_pii_events",
}
REQUIRED_ONLY = "{{ Dimension('field_coverage_day__requirement') }} = 'required'"


class MetricFlow:
    """`mf` run as a user runs it: in a dbt project root whose target/ holds the semantic manifest,
    against its own copy of a warehouse (dbt-duckdb opens the file read-write)."""

    def __init__(self, root: Path, warehouse: Path) -> None:
        self.root = root
        self.warehouse = warehouse
        self.env = {
            **os.environ,
            WAREHOUSE_ENV: str(warehouse),
            "DO_NOT_TRACK": "1",
            # offline: any attempt to reach the network goes to a port where nothing listens
            "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": "",
        }

    def query(self, metrics: list[str], group_by: list[str], start: dt.date, end: dt.date,
              where: str | None = None) -> list[dict[str, object]]:
        out = self.root / "result.csv"
        out.unlink(missing_ok=True)
        args = [str(Path(dbt_executable()).with_name("mf")), "query", "--quiet",
                "--metrics", ",".join(metrics), "--group-by", ",".join(group_by),
                "--start-time", start.isoformat(), "--end-time", end.isoformat(), "--csv", str(out)]
        if where:
            args += ["--where", where]
        done = subprocess.run(args, cwd=self.root, env=self.env, capture_output=True, text=True, timeout=600,
                              check=False)
        assert done.returncode == 0 and out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
        with out.open(newline="") as f:
            return [{k: _number(v) if k in metrics else v for k, v in row.items()} for row in csv.DictReader(f)]

    def sql(self, statement: str) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse))
        try:
            return con.execute(statement).fetchall()
        finally:
            con.close()


def _number(text: str) -> float | None:
    return None if text == "" else float(text)


@pytest.fixture(scope="module")
def mf(audited, tmp_path_factory: pytest.TempPathFactory) -> MetricFlow:
    """The broken shop's warehouse (copied) and a project root for `mf`: the project's files, linked,
    and a target/ that `dbt parse` filled with semantic_manifest.json (mf reads it from there only)."""
    root = tmp_path_factory.mktemp("metricflow")
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds"):
        (root / name).symlink_to(PROJECT_DIR / name)
    warehouse = root / "audit.duckdb"
    shutil.copy(audited("broken").warehouse, warehouse)
    flow = MetricFlow(root, warehouse)
    parsed = subprocess.run(
        [dbt_executable(), "parse", "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
         "--target-path", str(root / "target")],
        env=flow.env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert parsed.returncode == 0, parsed.stdout[-3000:] + parsed.stderr[-3000:]
    assert (root / "target" / "semantic_manifest.json").exists()
    return flow


@pytest.fixture(scope="module")
def scorecard(mf: MetricFlow) -> dict[tuple[str, str], tuple[float | None, dt.date, dt.date]]:
    rows = mf.sql("select platform, check_name, metric_value, window_start, window_end from marts.rpt_signal_scorecard")
    return {(p, c): (v, start, end) for p, c, v, start, end in rows}


def window(scorecard) -> tuple[dt.date, dt.date]:
    (bounds,) = {(start, end) for _, start, end in scorecard.values()}
    return bounds


def test_every_check_metric_equals_the_scorecard_over_the_window(mf, scorecard):
    start, end = window(scorecard)
    rows = mf.query(list(CHECK_METRICS.values()), ["platform"], start, end)
    assert {r["platform"] for r in rows} == {"meta", "tiktok", "snap"}
    for row in rows:
        for check, metric in CHECK_METRICS.items():
            expected = scorecard[(row["platform"], check)][0]
            assert expected is not None, (row["platform"], check)
            assert row[metric] == pytest.approx(expected, rel=0, abs=1e-9), (row["platform"], check)
    # the broken shop's known defects, seen through the metrics
    by_platform = {r["platform"]: r for r in rows}
    assert by_platform["tiktok"]["conversion_gap"] < -0.10  # over-reporting: pixel and server counted twice
    assert by_platform["tiktok"]["plaintext_pii_events"] > 0 and by_platform["meta"]["plaintext_pii_events"] == 0


def test_field_coverage_is_the_lowest_field_validity_among_required_fields(mf, scorecard):
    start, end = window(scorecard)
    rows = mf.query(["field_validity"], ["platform", "field_coverage_day__field_name"], start, end, REQUIRED_ONLY)
    lowest: dict[str, float] = {}
    for row in rows:
        lowest[row["platform"]] = min(lowest.get(row["platform"], 1.0), row["field_validity"])
    assert set(lowest) == {"meta", "tiktok", "snap"}
    for platform, value in lowest.items():
        assert value == pytest.approx(scorecard[(platform, "field_coverage")][0], rel=0, abs=1e-9), platform
    meta = {r["field_coverage_day__field_name"]: r["field_validity"] for r in rows if r["platform"] == "meta"}
    assert min(meta, key=meta.get) == "currency" and meta["currency"] < 0.98  # the broken shop drops currencies


def test_a_range_of_days_gives_the_ratio_of_its_sums_not_the_mean_of_daily_ratios(mf, scorecard):
    _, end = window(scorecard)
    start = end - dt.timedelta(days=6)
    rows = {r["platform"]: r for r in mf.query(["conversion_gap", "dedup_rate"], ["platform"], start, end)}
    daily = {p: (gap, mean_gap, dedup) for p, gap, mean_gap, dedup in mf.sql(f"""
        select gap.platform,
               1.0 * (sum(gap.backend_purchases) - sum(gap.platform_reported_purchases)) / sum(gap.backend_purchases),
               avg(gap.gap_pct),
               (select 1.0 * sum(matching_event_id_orders) / sum(orders_with_both) from marts.fct_dedup_daily as dd
                where dd.platform = gap.platform and dd.report_date between '{start}' and '{end}')
        from marts.fct_conversion_gap_daily as gap
        where gap.report_date between '{start}' and '{end}'
        group by gap.platform""")}
    assert set(rows) == set(daily)
    for platform, (gap, _, dedup) in daily.items():
        assert rows[platform]["conversion_gap"] == pytest.approx(gap, rel=0, abs=1e-9), platform
        assert rows[platform]["dedup_rate"] == pytest.approx(dedup, rel=0, abs=1e-9), platform
    # days differ in size, so the mean of the daily gaps is another (wrong) number somewhere
    assert any(abs(gap - mean_gap) > 1e-6 for gap, mean_gap, _ in daily.values())


def test_purchase_metrics_ignore_other_events_and_no_report_means_no_gap(mf, scorecard):
    """Edges on a copy: a non-purchase event name, Meta Dataset Quality API snapshots, and Snap
    without a single report in the window."""
    start, end = window(scorecard)
    before = {r["platform"]: r for r in mf.query(["email_coverage", "plaintext_pii_events"], ["platform"], start, end)}
    edited = mf.root / "edited" / mf.warehouse.name  # the manifest names the DuckDB catalog: the file's stem
    edited.parent.mkdir()
    shutil.copy(mf.warehouse, edited)
    flow = MetricFlow(mf.root, edited)
    flow.sql(f"""
        insert into marts.fct_match_quality_daily (report_date, platform, event_name, events, email_coverage_pct,
            estimated_match_score, unhashed_pii_events)
        values ('{end}', 'meta', 'AddToCart', 1000, 0.0, 0.0, 7);
        insert into marts.fct_platform_match_quality_daily (report_date, platform, event_name, source,
            platform_match_score, events_received)
        values ('{start}', 'meta', 'Purchase', 'dataset_quality_api', 6.0, null),
               ('{end}', 'meta', 'Purchase', 'dataset_quality_api', 9.0, null),
               ('{end}', 'meta', 'PageView', 'dataset_quality_api', 1.0, null),
               ('{end + dt.timedelta(days=1)}', 'meta', 'Purchase', 'dataset_quality_api', 2.0, null);
        update marts.fct_conversion_gap_daily set platform_reported_purchases = null where platform = 'snap'
    """)
    after = {r["platform"]: r for r in flow.query(
        ["email_coverage", "plaintext_pii_events", "match_quality", "conversion_gap"], ["platform"], start, end)}
    assert after["meta"]["email_coverage"] == pytest.approx(before["meta"]["email_coverage"], rel=0, abs=1e-12)
    assert after["meta"]["plaintext_pii_events"] == before["meta"]["plaintext_pii_events"] + 7  # every event name
    assert after["meta"]["match_quality"] == pytest.approx(7.5)  # snapshots in the window, purchases only
    assert after["snap"]["conversion_gap"] is None
    assert after["tiktok"]["conversion_gap"] == pytest.approx(scorecard[("tiktok", "conversion_gap")][0], abs=1e-9)
