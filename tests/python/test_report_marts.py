"""Every number the report shows is a mart's: the page of the broken demo shop is read back
(its tables and the data of its plotly charts) and compared with the marts queried directly.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import re
from typing import Any

import numpy as np
import pytest

from signal_audit.reporting.data import load_report_data
from signal_audit.reporting.page import render_page


@pytest.fixture(scope="module")
def shop(audited):
    return audited("broken")


@pytest.fixture(scope="module")
def page(shop) -> str:
    data = load_report_data(shop.warehouse)
    return render_page(data, generated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))


def traces(page: str, key: str) -> list[dict[str, Any]]:
    """The data of one plotly chart on the page, typed arrays decoded."""
    start = page.index("Plotly.newPlot(")
    start = page.index(f'"chart-{key}",', start) + len(f'"chart-{key}",')
    found, _ = json.JSONDecoder().raw_decode(page[start:].lstrip())
    return [_decode(t) for t in found]


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        if "shape" in value:
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array.tolist()
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def cells(page: str, table_class: str) -> list[list[str]]:
    body = re.search(rf'<table class="{table_class}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert body, f"no table {table_class}"
    def text(cell: str) -> str:
        return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", cell).split()))

    return [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body.group(1), re.S)]


def window(shop) -> tuple[dt.date, dt.date]:
    return shop.query("select window_start, window_end from marts.rpt_signal_scorecard limit 1")[0]


def test_the_waterfall_table_and_chart_are_rpt_gap_waterfall(shop, page: str):
    steps = shop.query("select platform, step_order, short_label, step_label, orders, orders_change, step_kind "
                       "from marts.rpt_gap_waterfall order by platform, step_order")
    names = dict(shop.query("select platform, display_name from reference.platforms"))
    table = {row[0]: [int(c.replace(",", "")) for c in row[1:]] for row in cells(page, "waterfall-numbers")}
    assert table == {names[p]: [o for q, _, _, _, o, _, _ in steps if q == p] for p in {s[0] for s in steps}}
    heads = re.search(r'<table class="waterfall-numbers"><thead>(.*?)</thead>', page.replace("\n", ""), re.S)
    assert re.findall(r'<th class="num">(.*?)</th>', heads.group(1)) == [s[2] for s in steps if s[0] == "meta"]
    drawn = {t["name"]: t for t in traces(page, "waterfall")}
    assert set(drawn) == {names[p] for p in {s[0] for s in steps}}
    for platform in {s[0] for s in steps}:
        mine = [s for s in steps if s[0] == platform]
        trace = drawn[names[platform]]
        assert trace["x"] == [s[3] for s in mine]
        # the first bar is the level, the changes are the mart's signed changes, totals plotly adds up
        assert trace["y"] == [mine[0][4]] + [0 if s[6] == "total" else s[5] for s in mine[1:]]
        assert trace["text"] == [f"{s[5]:+,}" if s[6] != "total" else f"{s[4]:,}" for s in mine]
    assert "+332" in drawn["TikTok"]["text"]


def test_the_causes_table_and_chart_are_rpt_check_causes(shop, page: str):
    causes = shop.query("select cause_rank, platform, cause, affected, unit, share_of_backend_purchases, status, "
                        "check_name, also_check_name, fix from marts.rpt_check_causes order by cause_rank")
    assert len(causes) == 10
    names = dict(shop.query("select platform, display_name from reference.platforms"))
    shown = cells(page, "causes")
    assert len(shown) == len(causes)
    for row, (rank, platform, cause, affected, unit, share, status, check, also, fix) in zip(
            shown, causes, strict=True):
        checks = check + (f", {also}" if also else "")
        assert row == [str(rank), names[platform], cause, f"{affected:,} {unit}", f"{share:.1%}",
                       f"{status.upper()} {checks}", fix]
    (bars,) = traces(page, "causes")
    assert bars["x"] == [c[3] for c in reversed(causes)]
    assert [label.replace("<br>", " ") for label in bars["y"]] == [f"{c[0]}. {c[2]}" for c in reversed(causes)]


def test_the_scorecard_is_rpt_signal_scorecard_with_the_checks_seed(shop, page: str):
    card = {(p, c): (s, v) for p, c, s, v in shop.query(
        "select platform, check_name, status, metric_value from marts.rpt_signal_scorecard")}
    rows = re.findall(r'data-platform="(\w+)" data-check="(\w+)" data-status="(\w+)">(.*?)</tr>', page, re.S)
    assert {(p, c): s for p, c, s, _ in rows} == {k: s for k, (s, _) in card.items()}
    titles = shop.query("select check_name, title from reference.checks order by display_order")
    assert [c for p, c, _, _ in rows if p == "meta"] == [c for c, _ in titles]  # the seed's order
    for platform, check, _, body in rows:
        title, value = re.findall(r"<td[^>]*>(.*?)</td>", body, re.S)[1:3]
        assert title.startswith(dict(titles)[check] + "<br>")
        metric = card[(platform, check)][1]
        number = float(re.sub(r"[^\d.\-+]", "", value.split(" / ")[0].split(" events")[0]))
        if value.endswith("%"):
            assert number == pytest.approx(100 * metric, abs=0.05)
        else:
            assert number == pytest.approx(metric, abs=0.05)
    for status in ("fail", "warn", "pass", "no_data"):
        count = sum(1 for s, _ in card.values() if s == status)
        assert f'<div data-total="{status}"><b>{count}</b>' in page


def test_the_key_coverage_heatmap_is_rpt_match_key_coverage(shop, page: str):
    coverage = {(p, k): c for p, k, c in shop.query(
        "select platform, match_key, coverage_pct from marts.rpt_match_key_coverage where events > 0")}
    names = {v: k for k, v in shop.query("select platform, display_name from reference.platforms")}
    (heat,) = traces(page, "key_coverage")
    drawn = {(names[y], x): z for y, row in zip(heat["y"], heat["z"], strict=True)
             for x, z in zip(heat["x"], row, strict=True) if z is not None}
    assert drawn == pytest.approx(coverage)
    order = shop.query("select distinct match_key, key_order from marts.rpt_match_key_coverage "
                       "where events > 0 order by key_order")
    assert heat["x"] == [key for key, _ in order]  # the columns in the mart's order
    assert heat["x"][:3] == ["ip_address", "user_agent", "email"]


def test_the_daily_charts_are_the_daily_marts_in_the_window(shop, page: str):
    start, end = window(shop)
    names = dict(shop.query("select platform, display_name from reference.platforms"))
    for key, table, column in (("gap_daily", "fct_conversion_gap_daily", "gap_pct"),
                               ("dedup_daily", "fct_dedup_daily", "dedup_rate"),
                               ("latency_daily", "fct_event_latency_daily", "within_threshold_pct")):
        rows = shop.query(f"select platform, report_date, {column} from marts.{table} "
                          f"where report_date between ? and ? and {column} is not null "
                          "order by platform, report_date", [start, end])
        # the share lines (the p95 delays are below; the latency threshold's line is no data)
        drawn = {(t["name"], d): v for t in traces(page, key)
                 if "p95" not in t.get("hovertemplate", "") and t.get("hoverinfo") != "skip"
                 for d, v in zip(t["x"], t["y"], strict=True)}
        assert drawn == pytest.approx({(names[p], d.isoformat()): v for p, d, v in rows}), key
    p95 = shop.query("select platform, report_date, p95_latency_seconds / 60.0 from marts.fct_event_latency_daily "
                     "where report_date between ? and ? and within_threshold_pct is not null", [start, end])
    drawn = {(t["name"], d): v for t in traces(page, "latency_daily") if "p95" in t.get("hovertemplate", "")
             for d, v in zip(t["x"], t["y"], strict=True)}
    assert drawn == pytest.approx({(names[p], d.isoformat()): max(v, 0.1) for p, d, v in p95})
