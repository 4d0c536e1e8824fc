"""Orders from Stripe charges, against a local server that answers like Stripe's API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fakes.server import Answer
from fakes.stripe import FakeStripe, stripe_charge
from sources_helpers import assert_nowhere, config, query

from pipelines.load import run_load
from pipelines.sources.http import SourceRefused
from pipelines.sources.stripe import charge_status
from signal_audit_core.config import StripeConfig

KEY = "sk_live_51Hx0123456789abcdefghijklmnop"
EMAIL_SHA256 = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
DAY = 86_400
T0 = 1_777_636_800  # 2026-05-01T12:00:00Z


@pytest.fixture
def stripe(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    monkeypatch.setenv("SOURCES__STRIPE__API_KEY", KEY)
    with FakeStripe(KEY) as server:
        for i in range(1, 6):
            server.put(stripe_charge(f"ch_{i}", T0 + i * 60))
        yield server


def settings(server: FakeStripe, **values: object) -> StripeConfig:
    values = {"refund_lookback_days": 0, **values}
    return StripeConfig(base_url=server.url, page_size=2, **values)  # type: ignore[arg-type]


def test_charges_are_paged_with_starting_after_and_mapped_onto_the_contract(stripe, tmp_path):
    stripe.put(stripe_charge("ch_jpy", T0 + 600, amount=5000, currency="jpy", customer="cus_9",
                             livemode=False, payment_method_details={"type": "card_present"}))
    stripe.put(stripe_charge("ch_kwd", T0 + 700, amount=12345, currency="kwd", metadata={"order_id": "#77"}))
    cfg = config(tmp_path, stripe=settings(stripe))
    report = run_load(cfg)

    assert report.counts["stripe_orders"].loaded == 7
    assert [r.query for r in stripe.requests] == [
        {"limit": "2", "created[gte]": "0"},
        {"limit": "2", "created[gte]": "0", "starting_after": "ch_jpy"},
        {"limit": "2", "created[gte]": "0", "starting_after": "ch_4"},
        {"limit": "2", "created[gte]": "0", "starting_after": "ch_2"},
    ]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in stripe.requests)
    assert query(cfg, "select order_id, created_at::varchar, status, total_value, currency, sales_channel, "
                      "checkout_type, customer_id, email_sha256, is_test from raw.orders order by 1") == [
        ("ch_1", "2026-05-01 12:01:00+00", "paid", 25.5, "USD", "web", "guest", None, EMAIL_SHA256, False),
        ("ch_2", "2026-05-01 12:02:00+00", "paid", 25.5, "USD", "web", "guest", None, EMAIL_SHA256, False),
        ("ch_3", "2026-05-01 12:03:00+00", "paid", 25.5, "USD", "web", "guest", None, EMAIL_SHA256, False),
        ("ch_4", "2026-05-01 12:04:00+00", "paid", 25.5, "USD", "web", "guest", None, EMAIL_SHA256, False),
        ("ch_5", "2026-05-01 12:05:00+00", "paid", 25.5, "USD", "web", "guest", None, EMAIL_SHA256, False),
        ("ch_jpy", "2026-05-01 12:10:00+00", "paid", 5000.0, "JPY", "pos", "account", "cus_9", EMAIL_SHA256, True),
        ("ch_kwd", "2026-05-01 12:11:40+00", "paid", 12.345, "KWD", "web", "guest", None, EMAIL_SHA256, False),
    ]

    other = config(tmp_path / "by_metadata", stripe=settings(stripe, order_id="metadata.order_id"))
    run_load(other)
    assert query(other, "select order_id from raw.orders") == [("#77",)]
    assert query(other, "select count(*), min(reason) from raw.rejected_rows") == [(6, "missing order_id")]


@pytest.mark.parametrize(("fields", "status"), [
    ({}, "paid"),
    ({"refunded": True, "amount_refunded": 2550}, "refunded"),
    ({"amount_refunded": 500}, "partially_refunded"),
    ({"captured": False}, "authorized"),
    ({"status": "failed", "paid": False}, "failed"),
    ({"status": "pending"}, "pending"),
])
def test_charge_status_maps_onto_order_statuses(fields, status):
    assert charge_status(stripe_charge("ch_x", T0, **fields)) == status


def test_the_next_run_reads_from_the_cursor_and_a_lookback_catches_refunds(stripe, tmp_path):
    cfg = config(tmp_path, stripe=settings(stripe))
    run_load(cfg)
    stripe.clear_log()
    stripe.put(stripe_charge("ch_6", T0 + 3600))
    stripe.put(stripe_charge("ch_2", T0 + 2 * 60, refunded=True, amount_refunded=2550))  # refunded later
    second = run_load(cfg)
    assert stripe.requests[0].query["created[gte]"] == str(T0 + 5 * 60)
    assert second.counts["stripe_orders"].read == 1  # ch_6; ch_5 sits on the cursor
    assert query(cfg, "select status from raw.orders where order_id = 'ch_2'") == [("paid",)]  # not seen

    looking_back = config(tmp_path, stripe=settings(stripe, refund_lookback_days=7))
    stripe.clear_log()
    third = run_load(looking_back)
    assert stripe.requests[0].query["created[gte]"] == str(T0 + 3600 - 7 * DAY)
    assert third.counts["stripe_orders"].read == 6
    assert query(cfg, "select status from raw.orders where order_id = 'ch_2'") == [("refunded",)]
    assert query(cfg, "select count(*), count(distinct order_id) from raw.orders") == [(6, 6)]


def test_a_refused_key_is_one_clear_error_and_a_server_error_is_retried(stripe, tmp_path, monkeypatch, capfd):
    monkeypatch.setenv("SOURCES__STRIPE__API_KEY", "sk_live_wrongwrongwrong")
    cfg = config(tmp_path, stripe=settings(stripe))
    with pytest.raises(SourceRefused) as caught:
        run_load(cfg)
    assert str(caught.value) == "stripe: the API key was refused (HTTP 401) — check SOURCES__STRIPE__API_KEY"
    out, err = capfd.readouterr()
    assert_nowhere(cfg, ["sk_live_wrongwrongwrong", KEY], out + err)

    monkeypatch.setenv("SOURCES__STRIPE__API_KEY", KEY)
    stripe.fail_next(Answer(500, {"error": {"type": "api_error", "message": "Something went wrong"}}))
    stripe.fail_next(Answer(429, {"error": {"type": "rate_limit_error", "message": "Too many requests"}}))
    assert run_load(cfg).counts["stripe_orders"].loaded == 5
