"""The HTML report as a reader meets it: opened in headless Chromium, offline.

The browser test renders the report of the broken demo shop, then asserts on the DOM that
Chromium produced (so plotly really drew every chart, with data), and keeps a screenshot in
test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from signal_audit.reporting import write_report
from signal_audit.reporting.data import load_report_data
from signal_audit_core.config import PROJECT_DIR

ARTIFACTS = PROJECT_DIR / "test-artifacts"
CHARTS = ("gap_daily", "waterfall", "key_coverage", "dedup_daily", "latency_daily", "causes")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("SIGNAL_AUDIT_REQUIRE_SERVICES") == "1":
        pytest.fail("chromium is required (SIGNAL_AUDIT_REQUIRE_SERVICES=1) but not installed")
    pytest.skip("chromium is not installed (Debian: apt-get install chromium)")


def browse(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with nothing that reaches the network on its own."""
    command = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--mute-audio", f"--user-data-dir={profile}",
        "--virtual-time-budget=10000", *extra, page.as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=False)


@pytest.fixture(scope="module")
def report(audited, tmp_path_factory: pytest.TempPathFactory) -> Path:
    shop = audited("broken")
    return write_report(shop.warehouse, tmp_path_factory.mktemp("report") / "signal_audit_report.html")


@pytest.fixture(scope="module")
def dom(report: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    rendered = browse(report, tmp_path_factory.mktemp("chromium"), "--dump-dom")
    assert rendered.returncode == 0, rendered.stderr[-2000:]
    return rendered.stdout


def chart(dom: str, key: str) -> str:
    match = re.search(rf'<figure class="chart" data-chart="{key}">(.*?)</figure>', dom, re.S)
    assert match, f"chart {key} is not on the page"
    return match.group(1)


def points(svg: str) -> int:
    """Drawn data points: markers, bars and waterfall steps are all `path.point` in plotly's SVG."""
    return len(re.findall(r'class="point[ "]', svg))


def test_the_report_is_one_file_that_needs_no_network(report: Path):
    page = report.read_text(encoding="utf-8")
    assert page.count("* plotly.js v") == 1  # the library embedded once, not once per chart
    assert not re.search(r"""<script[^>]+src=""", page)
    assert not re.search(r"""<link[^>]+href=["']https?:""", page)
    assert "cdn.plot.ly" not in page.split("</head>")[1]  # nothing in the body loads from a CDN
    assert report.stat().st_size < 8_000_000


def test_chromium_renders_the_scorecard_with_its_sentences(dom: str):
    rows = re.findall(r'<tr class="scorecard-row" data-platform="(\w+)" data-check="(\w+)" data-status="(\w+)"', dom)
    assert len(rows) == 21
    statuses = {(p, c): s for p, c, s in rows}
    assert statuses[("meta", "conversion_gap")] == "fail"
    assert statuses[("tiktok", "conversion_gap")] == "fail"
    assert statuses[("tiktok", "pii_hashing")] == "fail"
    assert statuses[("snap", "conversion_gap")] == "pass"
    assert "Meta counted 1,421 of your 1,702 backend purchases" in dom
    assert '<div data-total="fail"><b>3</b>' in dom


def test_chromium_draws_every_chart_with_data(dom: str):
    for key in CHARTS:
        body = chart(dom, key)
        assert body.count('class="main-svg"') >= 2, f"{key}: plotly did not draw"
    # lines: one trace per platform, each a path through the days
    for key in ("gap_daily", "dedup_daily"):
        body = chart(dom, key)
        traces = body.split('class="trace scatter')[1:]
        assert len(traces) == 3, key
        assert all(points(t) >= 30 for t in traces), key  # a marker a day of the window
    latency = chart(dom, "latency_daily")
    # share on time and p95 per platform, and the latency threshold's line
    assert len(re.findall(r'class="trace scatter', latency)) == 7
    # the threshold is drawn in: dashed shapes with their labels
    gap = chart(dom, "gap_daily")
    assert "under-counted at 10%" in gap and "over-counted at 10%" in gap
    assert "stroke-dasharray" in gap.split('class="shapelayer"', 1)[1]
    # the waterfall: three platforms, eight steps each, double counting among them
    waterfall = chart(dom, "waterfall")
    assert len(re.findall(r'class="trace bars"', waterfall)) == 3
    assert points(waterfall) == 24
    assert "double counted" in waterfall and "+332" in waterfall
    # the heatmap is painted as an image, one row per platform
    heatmap = chart(dom, "key_coverage")
    assert re.search(r'class="hm"[^>]*>\s*<image[^>]+href="data:image/png;base64,', heatmap)
    for label in ("Meta", "TikTok", "Snap", "email", "phone"):
        assert f">{label}<" in heatmap
    # the causes: ten bars
    assert points(chart(dom, "causes")) == 10


def test_the_causes_are_ranked_by_purchases_affected(audited):
    causes = load_report_data(audited("broken").warehouse).causes
    assert list(causes.cause_rank) == list(range(1, len(causes) + 1))
    assert list(causes.affected) == [436, 360, 332, 94, 65, 54, 26, 26, 21, 20]
    top = causes.iloc[0]
    assert (top.platform, top.affected, top.unit, top.status) == ("meta", 436, "orders", "fail")
    assert top.cause == "Web guest checkouts never sent to Meta by your server"
    assert set(causes.status) == {"fail", "warn"}
    # a platform whose every check passes contributes no cause
    assert "snap" not in set(causes.platform)
    double = causes[(causes.platform == "tiktok") & (causes.cause_key == "double_counted")].iloc[0]
    assert double.affected == 332 and (double.check_name, double.also_check_name) == ("conversion_gap", "deduplication")
    # a tie in count goes to the cause behind a failing check: rejected (fail) before too old (warn)
    tied = causes[causes.affected == 26]
    assert list(zip(tied.cause_rank, tied.cause_key, tied.status, strict=True)) == [
        (7, "rejected", "fail"), (8, "too_old", "warn")]


def test_the_waterfall_adds_up_to_what_the_platform_counted(audited):
    frame = load_report_data(audited("broken").warehouse).waterfall
    steps = frame.pivot(index="platform", columns="step", values="orders")
    for platform, row in steps.iterrows():
        assert row.backend_purchases - row.orders_never_sent - row.orders_rejected == row.orders_accepted, platform
        assert (row.orders_accepted + row.pixel_only_orders + row.double_counted_orders
                + row.other_difference) == row.platform_counted, platform
    assert steps.loc["meta"].to_dict() == {
        "backend_purchases": 1702, "orders_never_sent": 796, "orders_rejected": 26, "orders_accepted": 880,
        "pixel_only_orders": 442, "double_counted_orders": 54, "other_difference": 45, "platform_counted": 1421}
    assert steps.loc["tiktok", "double_counted_orders"] == 332 and steps.loc["snap", "orders_rejected"] == 255
    # the signed change of each step is what the chart stacks
    meta = frame[frame.platform == "meta"].set_index("step").orders_change
    assert meta.orders_never_sent == -796 and meta.other_difference == 45 and meta.isna().sum() == 3


def test_screenshot_is_kept_as_a_test_artifact(report: Path, tmp_path: Path):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "signal_audit_report.png"
    shot.unlink(missing_ok=True)
    taken = browse(report, tmp_path / "chromium", f"--screenshot={shot}", "--window-size=1400,9000",  # whole page
                   "--hide-scrollbars")
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 100_000  # a page with charts, not a blank one
    shutil.copy(report, ARTIFACTS / report.name)


def test_a_warehouse_without_orders_gets_a_page_that_says_so():
    import pandas as pd

    from signal_audit.reporting.data import ReportData
    from signal_audit.reporting.page import render_page

    empty = pd.DataFrame()
    card = pd.DataFrame(columns=["platform", "check_name", "status", "metric_value", "threshold", "summary"])
    data = ReportData(None, None, ("meta",), {"meta": "Meta"}, {"reporting_timezone": "UTC"}, (), card,
                      *([empty] * 6))
    page = render_page(data)
    assert "no backend orders were loaded" in page and 'data-chart="' not in page


def test_report_path_section_for_the_config(tmp_path: Path):
    from signal_audit.reporting import parse_report_section
    from signal_audit_core.config import ConfigError

    assert parse_report_section(None, tmp_path) is None
    assert parse_report_section({"path": "out/audit.html"}, tmp_path) == tmp_path / "out" / "audit.html"
    with pytest.raises(ConfigError, match="report.path must name an .html file"):
        parse_report_section({"path": "audit.pdf"}, tmp_path)


def test_a_platform_without_a_report_gets_the_waterfall_up_to_what_it_accepted():
    import pandas as pd

    from signal_audit.reporting import figures
    from signal_audit.reporting.data import ReportData
    from signal_audit.reporting.page import _waterfall_table

    steps = pd.DataFrame([
        ("snap", 1, "backend_purchases", "backend purchases", "backend purchases", "total", 10, None),
        ("snap", 2, "orders_never_sent", "never sent by server", "never sent", "subtract", 3, -3),
        ("snap", 3, "orders_rejected", "rejected", "rejected", "subtract", 1, -1),
        ("snap", 4, "orders_accepted", "accepted", "accepted", "total", 6, None),
        ("snap", 5, "pixel_only_orders", "counted via pixel only", "via pixel only", "add", 2, 2),
        ("snap", 6, "double_counted_orders", "double counted", "double counted", "add", 0, 0),
        ("snap", 7, "other_difference", "other platform difference", "other", "add", None, None),
        ("snap", 8, "platform_counted", "platform counted", "platform counted", "total", None, None),
    ], columns=["platform", "step_order", "step", "step_label", "short_label", "step_kind", "orders",
                "orders_change"])
    empty = pd.DataFrame()
    data = ReportData(None, None, ("snap",), {"snap": "Snap"}, {}, (), empty, empty, steps, *([empty] * 4))
    (trace,) = figures.waterfall(data).data
    assert list(trace.x) == ["backend purchases", "never sent by server", "rejected", "accepted"]
    assert list(trace.y) == [10, -3, -1, 0] and list(trace.text) == ["10", "-3", "-1", "6"]
    # the table keeps every step, empty where the platform's report is missing
    row = re.findall(r'<td class="num">(.*?)</td>', _waterfall_table(data))
    assert row == ["10", "3", "1", "6", "2", "0", "", ""]
    # with the report, all eight steps
    steps.loc[6:, "orders"] = [-1, 7]
    steps.loc[6, "orders_change"] = -1
    (trace,) = figures.waterfall(data).data
    assert len(trace.x) == 8 and list(trace.text)[-2:] == ["-1", "7"]


def test_values_and_targets_are_written_from_the_checks_seed_not_from_check_names():
    from signal_audit.reporting.checks import Check, metric_text, status_label, target_text

    gap = Check("any_gap", "Any gap", "fraction", "within", "gap_threshold", None, "")
    share = Check("any_share", "Any share", "fraction", "at_least", "share_pass", "share_floor", "")
    floorless = Check("any_min", "Any minimum", "fraction", "at_least", "share_pass", None, "")
    score = Check("any_score", "Any score", "score", "at_least", "score_pass", "score_floor", "")
    count = Check("any_count", "Any count", "count", "at_most", "count_max", None, "")
    settings = {"gap_threshold": 0.1, "share_pass": 0.9, "share_floor": 0.5, "score_pass": 7.0, "score_floor": 5,
                "count_max": 0}
    assert [metric_text(c, v) for c, v in ((gap, 0.165), (gap, -0.234), (share, 0.877), (score, 8.24),
                                           (count, 1234), (share, None))] == [
        "+16.5%", "-23.4%", "87.7%", "8.2 / 10", "1,234 events", "no data"]
    assert [target_text(c, settings) for c in (gap, share, floorless, score, count)] == [
        "within ±10%", "pass at 90%, fails below 50%", "at least 90%", "pass at 7, fails below 5", "none at all"]
    # a bound of 3 is written as one; a setting the warehouse lacks falls back to the scorecard's threshold
    assert target_text(count, {"count_max": 3}) == "at most 3"
    assert target_text(share, {}, threshold=0.8) == "at least 80%"
    assert target_text(share, {}) == "" and target_text(None, settings) == ""
    assert [status_label(s) for s in ("pass", "warn", "fail", "no_data")] == ["PASS", "WARN", "FAIL", "NO DATA"]
