"""Orders from Shopify's Admin REST API, against a local server that answers like Shopify."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.server import Answer
from fakes.shopify import FakeShopify, shopify_order
from sources_helpers import assert_nowhere, config, query

from pipelines.load import run_load
from pipelines.sources.http import SourceRefused, SourceUnavailable
from signal_audit_core.config import ShopifyConfig

TOKEN = "shpat_0123456789abcdef0123456789abcdef"
EMAIL_SHA256 = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
PATH = "/admin/api/2024-10/orders.json"


@pytest.fixture
def shopify(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeShopify]:
    monkeypatch.setenv("SOURCES__SHOPIFY__ACCESS_TOKEN", TOKEN)
    with FakeShopify(TOKEN) as server:
        for i in range(1, 6):
            server.put(shopify_order(1000 + i, f"2026-05-0{i}T10:00:00-04:00"))
        yield server


def settings(server: FakeShopify, **values: object) -> ShopifyConfig:
    return ShopifyConfig(shop_url=server.url, page_size=2, **values)  # type: ignore[arg-type]


def test_orders_are_paged_through_the_link_header_and_mapped_onto_the_contract(shopify, tmp_path):
    shopify.put(shopify_order(1006, "2026-05-06T10:00:00-04:00", customer=None, source_name="pos",
                              financial_status="partially_refunded", test=True, closed_at="2026-05-07T00:00:00Z"))
    shopify.put(shopify_order(1007, "2026-05-06T11:00:00-04:00", financial_status=None))
    cfg = config(tmp_path, shopify=settings(shopify))
    report = run_load(cfg)

    assert report.counts["shopify_orders"].loaded == 6
    assert report.counts["shopify_orders"].rejected == 1  # 1007 has no financial_status
    assert len(shopify.requests) == 4  # 7 orders, 2 a page
    first, *later = shopify.requests
    assert first.query == {"status": "any", "limit": "2", "updated_at_min": "1970-01-01T00:00:00+00:00"}
    assert all(set(r.query) == {"limit", "page_info"} for r in later)
    assert all(r.headers["x-shopify-access-token"] == TOKEN for r in shopify.requests)

    rows = query(cfg, "select order_id, status, sales_channel, checkout_type, customer_id, email_sha256, "
                      "is_test, marketing_consent, total_value, currency from raw.orders order by 1")
    assert rows[0] == ("1001", "paid", "web", "account", "7001", EMAIL_SHA256, False, True, 25.5, "USD")
    assert rows[5] == ("1006", "partially_refunded", "pos", "guest", None, EMAIL_SHA256, True, True, 25.5, "USD")
    assert query(cfg, "select distinct _source_file from raw.orders where order_id = '1001'") == [
        (f"{shopify.url}{PATH.removesuffix('.json')}/1001.json",)]
    assert query(cfg, "select reason from raw.rejected_rows") == [("missing status",)]


def test_a_second_run_reads_from_the_cursor_and_merges_refunds(shopify, tmp_path):
    cfg = config(tmp_path, shopify=settings(shopify))
    assert run_load(cfg).counts["shopify_orders"].loaded == 5
    shopify.clear_log()
    # a refund of 1002, and a new order; written in winter time (-05:00), which sorts before
    # the summer-time cursor as text though it is later
    shopify.put(shopify_order(1002, "2026-05-05T09:30:00-05:00", financial_status="refunded"))
    shopify.put(shopify_order(1009, "2026-05-05T09:31:00-05:00"))

    second = run_load(cfg)
    assert shopify.requests[0].query["updated_at_min"] == "2026-05-05T10:00:00-04:00"
    assert second.counts["shopify_orders"].read == 2  # 1005 sits on the cursor and is not read again
    assert query(cfg, "select order_id, status from raw.orders order by 1") == [
        ("1001", "paid"), ("1002", "refunded"), ("1003", "paid"), ("1004", "paid"), ("1005", "paid"),
        ("1009", "paid")]
    shopify.clear_log()
    assert run_load(cfg).counts["shopify_orders"].read == 0
    assert shopify.requests[0].query["updated_at_min"] == "2026-05-05T09:31:00-05:00"


def test_rate_limits_and_server_errors_are_retried(shopify, tmp_path, caplog):
    shopify.fail_next(Answer(429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates "
                                             "to resume uninterrupted service."}, {"Retry-After": "2.0"}))
    shopify.fail_next(Answer(500, {"errors": "Internal Server Error"}))
    shopify.fail_next(Answer(503, None))
    cfg = config(tmp_path, shopify=settings(shopify))
    assert run_load(cfg).counts["shopify_orders"].loaded == 5
    assert len(shopify.requests) == 3 + 3
    retries = [r.getMessage() for r in caplog.records if "retrying" in r.getMessage()]
    assert retries[0] == "shopify: HTTP 429, retrying in 0.1 s (attempt 2 of 4)"  # Retry-After, capped


def test_a_refused_token_is_one_clear_error_without_the_token(shopify, tmp_path, monkeypatch, capfd, caplog):
    monkeypatch.setenv("SOURCES__SHOPIFY__ACCESS_TOKEN", "shpat_wrong_token_value")
    cfg = config(tmp_path, shopify=settings(shopify))
    with pytest.raises(SourceRefused) as caught:
        run_load(cfg)
    assert str(caught.value) == ("shopify: the access token was refused (HTTP 401) — check "
                                 "SOURCES__SHOPIFY__ACCESS_TOKEN")
    assert len(shopify.requests) == 1  # a refused token is not retried
    out, err = capfd.readouterr()
    logged = out + err + "\n".join(r.getMessage() for r in caplog.records)
    assert_nowhere(cfg, ["shpat_wrong_token_value", TOKEN], logged)

    monkeypatch.delenv("SOURCES__SHOPIFY__ACCESS_TOKEN")
    with pytest.raises(SourceRefused, match="^shopify: no access token configured: set SOURCES__SHOPIFY__ACCESS_TOKEN"):
        run_load(cfg)


def test_a_run_that_dies_half_way_loads_nothing_and_the_next_run_completes_without_duplicates(shopify, tmp_path):
    cfg = config(tmp_path, shopify=settings(shopify))
    run_load(cfg)
    for i in range(1, 6):  # every order changes; the next run reads all of them again, 3 pages
        shopify.put(shopify_order(1000 + i, f"2026-05-1{i}T10:00:00-04:00", financial_status="refunded"))
    shopify.clear_log()
    shopify.go_down(after_requests=2)  # page 3 never answers, whatever the retries

    with pytest.raises(SourceUnavailable, match=r"^shopify: no answer from the server after 4 attempts"):
        run_load(cfg)
    assert query(cfg, "select count(*) from raw.orders where status = 'refunded'") == [(0,)]

    shopify.come_back()
    shopify.clear_log()
    third = run_load(cfg)
    assert shopify.requests[0].query["updated_at_min"] == "2026-05-05T10:00:00-04:00"  # the last good cursor
    assert third.counts["shopify_orders"].loaded == 5
    assert query(cfg, "select count(*), count(distinct order_id), min(status), max(status) from raw.orders") == [
        (5, 5, "refunded", "refunded")]


def test_a_rate_limit_that_does_not_end_is_reported_after_the_last_attempt(shopify, tmp_path):
    shopify.fail_next(Answer(429, {"errors": "Exceeded 2 calls per second"}, {"Retry-After": "1"}), times=10)
    cfg = config(tmp_path, shopify=settings(shopify))
    with pytest.raises(SourceUnavailable, match=r"^shopify: still rate limited \(HTTP 429\) after 4 attempts"):
        run_load(cfg)


def test_a_run_that_died_after_extracting_is_loaded_first_and_the_next_read_goes_on_from_its_cursor(
        shopify, tmp_path):
    import datetime as dt

    import dlt

    from pipelines.load import SOURCES_PIPELINE_NAME, _pipeline
    from pipelines.sources.runs import plan

    cfg = config(tmp_path, shopify=settings(shopify))
    cfg.warehouse.parent.mkdir(parents=True)
    # extract (the cursor moves on) and die before loading, as a crash in normalize or load would
    (run,) = plan(cfg, lambda: dt.datetime.now(dt.UTC))
    pipeline = _pipeline(SOURCES_PIPELINE_NAME, cfg.warehouse)
    pipeline.extract(dlt.source(name=SOURCES_PIPELINE_NAME, max_table_nesting=0)(lambda: run.resources)())
    assert pipeline.has_pending_data
    shopify.put(shopify_order(1006, "2026-05-06T10:00:00-04:00"))
    shopify.clear_log()

    report = run_load(cfg)
    assert shopify.requests[0].query["updated_at_min"] == "2026-05-05T10:00:00-04:00"
    assert report.counts["shopify_orders"].read == 1
    assert query(cfg, "select count(*), count(distinct order_id) from raw.orders") == [(6, 6)]
