"""Payloads real senders emit flow through staging with the fields they carry.

Meta's events are built with Meta's own Python SDK (facebook-business), which lowercases the
currency and sends every user_data key as a list; TikTok's and Snap's bodies are shaped like
their documentation's examples. Failed requests mark all their events as not accepted.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from audit_harness import build
from facebook_business.adobjects.serverside.action_source import ActionSource
from facebook_business.adobjects.serverside.custom_data import CustomData
from facebook_business.adobjects.serverside.event import Event
from facebook_business.adobjects.serverside.user_data import UserData

from pipelines.load import run_load
from signal_audit_core.config import Config, InputsConfig
from signal_audit_core.pii import normalize_email, phone_digits, sha256

T0 = int(dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC).timestamp())
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"
HEX = "a" * 64


def meta_sdk_event(order_id: str, email: str, phone: str) -> dict[str, Any]:
    user = UserData(
        emails=[email], phones=[phone], client_ip_address="203.0.113.7", client_user_agent=UA,
        fbp="fb.1.1558571054389.1098115397", external_ids=[f"cust-{order_id}"],
    )
    custom = CustomData(value=49.9, currency="USD", order_id=order_id)
    event = Event(
        event_name="Purchase", event_time=T0, event_id=order_id, user_data=user,
        custom_data=custom, action_source=ActionSource.WEBSITE,
        event_source_url="https://shop.example/thank-you",
    )
    return event.normalize()


TIKTOK_DOC_BODY = {  # the Events API 2.0 documentation's web example, with our ids
    "event_source": "web",
    "event_source_id": "CXXXXXXXXXXX",
    "data": [{
        "event": "CompletePayment",
        "event_time": T0,
        "event_id": "00042",
        "user": {
            "ttclid": "E.C.P.v3KQbQ2tLQbvc",
            "external_id": HEX,
            "phone": "b" * 64,
            "email": "c" * 64,
            "ttp": "2MIQYwL1jsKVxy3hyPzXrcwxXWi",
            "ip": "13.57.97.131",
            "user_agent": UA,
        },
        "properties": {
            "contents": [{"price": 8, "quantity": 2, "content_type": "socks", "content_id": "1077218"}],
            "currency": "USD",
            "value": 16,
        },
        "page": {"url": "https://www.example.com/checkout"},
    }],
}

SNAP_DOC_BODY = {  # CAPI v3 documentation shape: value as a string, event time in milliseconds
    "data": [{
        "event_name": "PURCHASE",
        "action_source": "WEB",
        "event_source_url": "https://www.example.com/checkout",
        "event_time": T0 * 1000,
        "event_id": "3003",
        "user_data": {
            "em": ["d" * 64],
            "ph": ["e" * 64],
            "client_ip_address": "202.117.0.20",
            "client_user_agent": UA,
        },
        "custom_data": {"value": "142.52", "currency": "usd", "order_id": "3003"},
    }],
}


def log_line(platform: str, channel: str, body: dict, response: dict | None = None,
             http_status: int | None = 200, sent_offset: int = 30) -> str:
    line: dict[str, Any] = {
        "platform": platform, "channel": channel,
        "sent_at": dt.datetime.fromtimestamp(T0 + sent_offset, dt.UTC).isoformat().replace("+00:00", "Z"),
        "request": body,
    }
    if channel == "server":
        line["http_status"] = http_status
        line["response"] = response
    return json.dumps(line)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("payloads")
    orders = [
        # order_id, email as typed, phone as typed
        ("1001", " Joe.Buyer@Example.com", "+1 (650) 555-1212"),
        ("1002", "ann@example.com", "650 555 0100"),
        ("1003", "bo@example.com", "650 555 0101"),
        ("1004", "cy@example.com", "650 555 0102"),
        ("00042", "tik@example.com", "650 555 0103"),
        ("3003", "snap@example.com", "650 555 0104"),
        ("3004", "snap2@example.com", "650 555 0105"),
    ]
    with open(root / "orders.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["order_id", "created_at", "status", "total_value", "currency", "email", "phone", "country"])
        for order_id, email, phone in orders:
            writer.writerow([order_id, "2026-05-01T12:00:00Z", "paid", "49.90", "USD", email, phone, "US"])

    lines = [
        # Meta SDK: one event per request, accepted
        log_line("meta", "server", {"data": [meta_sdk_event("1001", " Joe.Buyer@Example.com", "+1 (650) 555-1212")]},
                 {"events_received": 1, "messages": [], "fbtrace_id": "A1"}),
        # Meta SDK: a batch of three events that Meta refused as a whole (HTTP 400 + error)
        log_line("meta", "server",
                 {"data": [meta_sdk_event(o, f"x{o}@example.com", "6505550000") for o in ("1002", "1003", "1004")]},
                 {"error": {"message": "Invalid parameter", "type": "OAuthException", "code": 100,
                            "error_subcode": 2804050, "fbtrace_id": "A2"}}, http_status=400),
        # TikTok documentation example, accepted; no order_id: tied to its order by event_id
        log_line("tiktok", "server", TIKTOK_DOC_BODY, {"code": 0, "message": "OK", "request_id": "r1", "data": {}}),
        # TikTok business error: HTTP 200 with a non-zero code
        log_line("tiktok", "server", TIKTOK_DOC_BODY | {"data": [TIKTOK_DOC_BODY["data"][0] | {"event_id": "x-1"}]},
                 {"code": 40002, "message": "Invalid parameter", "request_id": "r2", "data": {}}),
        # Snap documentation shape, accepted
        log_line("snap", "server", SNAP_DOC_BODY, {"status": "VALID"}),
        # Snap refused with INVALID
        log_line("snap", "server", {"data": [SNAP_DOC_BODY["data"][0] | {"event_id": "3004", "event_time": T0,
                 "custom_data": {"value": 10, "currency": "USD", "order_id": "3004"}}]},
                 {"status": "INVALID", "reason": "missing user_data"}, http_status=400),
        # Snap pixel: dedup key called client_dedup_id
        log_line("snap", "browser", {"data": [{"event_name": "PURCHASE", "event_time": T0, "client_dedup_id": "3003",
                 "custom_data": {"value": 142.52, "currency": "USD", "order_id": "3003"}}]}),
    ]
    with gzip.open(root / "log.jsonl.gz", "wt") as fh:
        fh.write("\n".join(lines) + "\n")

    wh = root / "wh" / "audit.duckdb"
    report = run_load(Config(warehouse=wh, inputs=InputsConfig(
        orders=(str(root / "orders.csv"),), delivery_log=(str(root / "log.jsonl.gz"),))))
    assert report.counts["delivery_log"].rejected == 0
    build(wh)
    return wh


def events(warehouse: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Events by (platform, channel, event_id)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cur = con.execute(
            "select events.*, orders.order_id from intermediate.int_events as events "
            "left join intermediate.int_event_orders as orders using (event_key)"
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        cur = con.execute(
            "select flags.*, checks.is_email_mismatch, checks.is_phone_mismatch "
            "from intermediate.int_event_flags as flags "
            "left join intermediate.int_event_hash_checks as checks using (event_key)"
        )
        names = [d[0] for d in cur.description]
        flags = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()
    # per event and match key: (valid, hash mismatch with the order: email and phone only)
    by_key: dict[str, dict[str, tuple[Any, Any]]] = {}
    for f in flags:
        for name in names:
            if name.startswith("key_") and name.endswith("_valid"):
                key = name.removeprefix("key_").removesuffix("_valid")
                by_key.setdefault(f["event_key"], {})[key] = (f[name], f.get(f"is_{key}_mismatch"))
    return {(r["platform"], r["channel"], r["event_id"]): r | {"keys": by_key.get(r["event_key"], {})} for r in rows}


def test_meta_sdk_event_flows_through_with_lists_and_lowercase_currency(warehouse):
    e = events(warehouse)["meta", "server", "1001"]
    assert (e["event_name"], e["is_purchase"], e["order_id"]) == ("Purchase", True, "1001")
    assert e["is_request_accepted"] is True
    assert (e["currency_raw"], e["currency"], e["value_number"]) == ("usd", "USD", 49.9)
    assert e["action_source"] == "website" and e["event_time_unit"] == "seconds"
    # the SDK normalizes like the docs: its hashes equal the backend's
    assert e["keys"]["email"] == (True, False)
    assert e["keys"]["phone"] == (True, False)
    assert e["keys"]["external_id"][0] and e["keys"]["browser_id"][0] and e["keys"]["ip_address"][0]
    assert sha256(normalize_email(" Joe.Buyer@Example.com")) == e["key_email"]
    assert sha256(phone_digits("+1 (650) 555-1212")) == e["key_phone"]


def test_a_failed_meta_batch_marks_all_its_events_not_accepted(warehouse):
    got = events(warehouse)
    batch = [got["meta", "server", o] for o in ("1002", "1003", "1004")]
    assert [b["is_request_accepted"] for b in batch] == [False, False, False]
    assert {b["platform_error"] for b in batch} == {"Invalid parameter"}
    assert {b["record_id"] for b in batch} == {batch[0]["record_id"]}
    assert [b["event_index"] for b in batch] == [0, 1, 2]


def test_tiktok_documentation_example(warehouse):
    got = events(warehouse)
    e = got["tiktok", "server", "00042"]
    assert (e["event_name"], e["is_purchase"], e["is_request_accepted"]) == ("CompletePayment", True, True)
    assert e["order_ref"] is None and e["order_id"] == "00042"  # linked through event_id
    assert (e["pixel_id"], e["action_source"], e["event_source_url"]) == (
        "CXXXXXXXXXXX", "web", "https://www.example.com/checkout")
    assert e["value_number"] == 16 and e["currency"] == "USD"
    assert e["keys"]["click_id"][0] and e["keys"]["email"][0] and e["keys"]["browser_id"][0]
    failed = got["tiktok", "server", "x-1"]
    assert failed["is_request_accepted"] is False and failed["platform_error"].startswith("40002")


def test_snap_documentation_shape_with_string_value_and_milliseconds(warehouse):
    got = events(warehouse)
    server = got["snap", "server", "3003"]
    assert (server["value_raw"], server["value_json_type"], server["value_number"]) == ("142.52", "VARCHAR", 142.52)
    assert server["event_time_unit"] == "milliseconds"
    assert server["event_at"] == dt.datetime.fromtimestamp(T0, dt.UTC)
    assert server["is_request_accepted"] is True
    assert got["snap", "server", "3004"]["is_request_accepted"] is False
    assert got["snap", "browser", "3003"]["order_id"] == "3003"  # event_id from client_dedup_id


def test_marts_count_the_real_payloads(warehouse):
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        gap = dict(con.execute(
            "select platform, (backend_purchases, orders_sent_by_server, orders_accepted) "
            "from marts.fct_conversion_gap_daily where report_date = '2026-05-01'").fetchall())
        fields = dict(con.execute(
            "select field_name, (events_present, events_valid) from marts.fct_field_coverage_daily "
            "where platform = 'snap' and field_name in ('value', 'event_time')").fetchall())
        dedup = con.execute(
            "select orders_with_both, matching_event_id_orders from marts.fct_dedup_daily "
            "where platform = 'snap' and report_date = '2026-05-01'").fetchone()
    finally:
        con.close()
    assert gap["meta"] == (7, 4, 1)
    assert gap["tiktok"] == (7, 1, 1)
    assert gap["snap"] == (7, 2, 1)
    assert fields["value"] == (2, 2)  # "142.52" reads as a number
    assert fields["event_time"] == (2, 1)  # milliseconds are present but not valid
    assert dedup == (1, 1)
