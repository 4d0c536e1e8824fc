"""Meta's Graph API (Dataset Quality API, pixel stats) against a local server answering like it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from audit_harness import build, shop_inputs
from fakes.meta import RATE_LIMIT_4, RATE_LIMIT_80004, FakeGraph, quality_event
from fakes.server import Answer
from sources_helpers import assert_nowhere, config, query

from pipelines.load import run_load
from pipelines.sources.http import SourceRefused
from signal_audit.demo import generate_shop, preset
from signal_audit_core.config import MetaGraphConfig

TOKEN = "EAAB" + "x7" * 40
NOW = dt.datetime(2026, 5, 10, 12, 30, tzinfo=dt.UTC)
HOURS = [dt.datetime(2026, 5, 10, h, tzinfo=dt.UTC) for h in range(7, 12)]


@pytest.fixture
def graph(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGraph]:
    monkeypatch.setenv("SOURCES__META__ACCESS_TOKEN", TOKEN)
    with FakeGraph(TOKEN) as server:
        server.quality["123"] = [quality_event("Purchase", 7.8), quality_event("AddToCart", 6.1)]
        server.stats["123"] = {h: {"Purchase": 10 + i, "PageView": 100 + i} for i, h in enumerate(HOURS)}
        yield server


def settings(server: FakeGraph, **values: object) -> MetaGraphConfig:
    return MetaGraphConfig(pixel_ids=("123",), base_url=server.url, **values)  # type: ignore[arg-type]


def test_dataset_quality_and_pixel_stats_land_page_by_page(graph, tmp_path):
    cfg = config(tmp_path, meta_graph=settings(graph))
    report = run_load(cfg, now=lambda: NOW)

    assert report.counts["meta_dataset_quality"].loaded == 2
    assert report.counts["meta_pixel_stats"].loaded == 10
    rows = query(cfg, "select snapshot_date, dataset_id, event_name, composite_score, event_coverage_percentage, "
                      "event_coverage_goal_percentage, data_freshness, acr_percentage, match_key_feedback "
                      "from raw.meta_dataset_quality order by event_name")
    assert [r[:8] for r in rows] == [
        (dt.date(2026, 5, 10), "123", "AddToCart", 6.1, 80.0, 75.0, "real_time", 12.5),
        (dt.date(2026, 5, 10), "123", "Purchase", 7.8, 80.0, 75.0, "real_time", 12.5)]
    assert json.loads(rows[1][8])[0] == {"identifier": "email", "coverage": {"percentage": 90.0}}
    assert query(cfg, "select hour_start, event_name, event_count from raw.meta_pixel_stats "
                      "where event_name = 'Purchase' order by 1") == [
        (h, "Purchase", 10 + i) for i, h in enumerate(HOURS)]

    stats = [r for r in graph.requests if r.path.endswith("/stats")]
    assert len(stats) == 3  # 5 hours, 2 a page, through paging.next
    assert stats[0].query == {"aggregation": "event",
                              "start_time": str(int(dt.datetime(2026, 5, 3, 12, tzinfo=dt.UTC).timestamp()))}
    assert [r.query.get("after") for r in stats] == [None, "2", "4"]
    assert all(r.headers["authorization"] == f"Bearer {TOKEN}" for r in graph.requests)
    assert all("access_token" not in r.query for r in graph.requests)  # stripped from paging.next
    quality = [r for r in graph.requests if r.path.endswith("/dataset_quality")]
    assert quality[0].path == "/v21.0/dataset_quality" and quality[0].query["dataset_id"] == "123"
    assert quality[0].query["fields"].startswith("web{event_name,event_match_quality,")


def test_one_snapshot_per_day_and_the_recent_hours_are_read_again(graph, tmp_path):
    cfg = config(tmp_path, meta_graph=settings(graph, pixel_stats_refetch_hours=2))
    run_load(cfg, now=lambda: NOW)
    graph.quality["123"] = [quality_event("Purchase", 8.0)]
    run_load(cfg, now=lambda: NOW + dt.timedelta(hours=3))  # the same day: replaces its snapshot
    graph.quality["123"] = [quality_event("Purchase", 6.0)]
    graph.stats["123"][HOURS[-1]]["Purchase"] = 50  # the last hour's count grew
    graph.stats["123"][HOURS[-1] + dt.timedelta(hours=1)] = {"Purchase": 3}
    graph.clear_log()
    third = run_load(cfg, now=lambda: NOW + dt.timedelta(days=1))

    assert query(cfg, "select snapshot_date, event_name, composite_score from raw.meta_dataset_quality "
                      "order by 1, 2") == [
        (dt.date(2026, 5, 10), "AddToCart", 6.1), (dt.date(2026, 5, 10), "Purchase", 8.0),
        (dt.date(2026, 5, 11), "Purchase", 6.0)]
    stats = [r for r in graph.requests if r.path.endswith("/stats")]
    assert stats[0].query["start_time"] == str(int((HOURS[-1] - dt.timedelta(hours=2)).timestamp()))
    assert third.counts["meta_pixel_stats"].read == 2 * 3 + 1  # 3 hours read again, 1 new
    assert query(cfg, "select count(*), sum(event_count) from raw.meta_pixel_stats where event_name = 'Purchase'") == [
        (6, 10 + 11 + 12 + 13 + 50 + 3)]


def test_rate_limit_codes_4_and_80004_and_server_errors_are_retried(graph, tmp_path, caplog):
    graph.fail_next(Answer(403, RATE_LIMIT_4), match="/stats")
    graph.fail_next(Answer(400, RATE_LIMIT_80004), match="/stats")
    graph.fail_next(Answer(500, {"error": {"message": "An unknown error occurred", "code": 1, "is_transient": True}}))
    cfg = config(tmp_path, meta_graph=settings(graph))
    report = run_load(cfg, now=lambda: NOW)
    assert (report.counts["meta_dataset_quality"].loaded, report.counts["meta_pixel_stats"].loaded) == (2, 10)
    retried = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert [m.split(",")[0] for m in retried] == [
        "meta_graph: HTTP 500", "meta_graph: HTTP 403", "meta_graph: HTTP 400"]


def test_a_bad_token_is_one_clear_error_naming_the_source(graph, tmp_path, monkeypatch, capfd, caplog):
    monkeypatch.setenv("SOURCES__META__ACCESS_TOKEN", "EAAB-not-a-valid-token")
    cfg = config(tmp_path, meta_graph=settings(graph))
    with pytest.raises(SourceRefused) as caught:
        run_load(cfg, now=lambda: NOW)
    assert str(caught.value) == ("meta_graph: the access token was refused (Meta error 190: Invalid OAuth access "
                                 "token - Cannot parse access token) — check SOURCES__META__ACCESS_TOKEN")
    assert len(graph.requests) == 1
    out, err = capfd.readouterr()
    logged = out + err + "\n".join(r.getMessage() for r in caplog.records)
    assert_nowhere(cfg, ["EAAB-not-a-valid-token", TOKEN], logged)


@pytest.mark.slow
def test_metas_own_score_becomes_the_platform_match_score_beside_the_estimate(graph, tmp_path):
    shop = replace(preset("broken"), days=10, orders_per_day=15)
    truth = generate_shop(shop, tmp_path / "shop")
    last_day = shop.end_date
    taken = dt.datetime.combine(last_day, dt.time(12), dt.UTC)
    graph.quality["123"] = [quality_event("Purchase", 9.4, email=55.0, phone=20.0)]
    cfg = config(tmp_path, inputs=shop_inputs(tmp_path / "shop"), meta_graph=settings(graph, pixel_stats=False))
    run_load(cfg, now=lambda: taken)
    build(cfg.warehouse)

    assert query(cfg, "select report_date, event_name, platform_match_score, datasets, email_coverage_pct, "
                      "phone_coverage_pct, event_coverage_pct from marts.fct_platform_match_quality_daily "
                      "where source = 'dataset_quality_api'") == [(last_day, "Purchase", 9.4, 1, 0.55, 0.2, 0.8)]
    reported = dict(query(cfg, "select report_date, platform_match_score from marts.fct_platform_match_quality_daily "
                               "where source = 'platform_report' and platform = 'meta' and event_name = 'Purchase'"))
    assert reported and reported[last_day] != 9.4
    daily = dict(query(cfg, "select report_date, platform_match_score from marts.fct_match_quality_daily "
                            "where platform = 'meta' and event_name = 'Purchase'"))
    assert daily[last_day] == 9.4  # the API snapshot first
    assert all(daily[d] == pytest.approx(score) for d, score in reported.items() if d != last_day and d in daily)

    (metric, summary), = query(cfg, "select metric_value, summary from marts.rpt_signal_scorecard "
                                    "where platform = 'meta' and check_name = 'match_quality'")
    assert metric == 9.4
    assert "Meta's own score, from its Dataset Quality API" in summary
    assert truth is not None
