"""The demo shop generator: deterministic, native payload shapes, defects planted as configured."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
from collections import Counter
from pathlib import Path

import pytest

from signal_audit.demo import PRESETS, PlatformDefects, ShopConfig, Truth, generate_shop, preset
from signal_audit_core import pii

FILES = ("orders.csv", "delivery_log.jsonl.gz", "platform_reports.csv", "truth.json")
PURCHASE = {"meta": "Purchase", "tiktok": "CompletePayment", "snap": "PURCHASE"}


class Shop:
    def __init__(self, out_dir: Path, truth: Truth):
        self.dir = out_dir
        self.truth = truth
        with open(out_dir / "orders.csv", newline="", encoding="utf-8") as fh:
            self.orders = {row["order_id"]: row for row in csv.DictReader(fh)}
        with gzip.open(out_dir / "delivery_log.jsonl.gz", "rt", encoding="utf-8") as fh:
            self.log = [json.loads(line) for line in fh]
        with open(out_dir / "platform_reports.csv", newline="", encoding="utf-8") as fh:
            self.reports = list(csv.DictReader(fh))

    def server_events(self, platform: str):
        """(line, event) for every event of every server request of the platform."""
        for line in self.log:
            if line["platform"] == platform and line["channel"] == "server":
                for event in line["request"]["data"]:
                    yield line, event


def _generate(tmp_path_factory: pytest.TempPathFactory, config: ShopConfig) -> Shop:
    out_dir = tmp_path_factory.mktemp("shop")
    return Shop(out_dir, generate_shop(config, out_dir))


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    return _generate(tmp_path_factory, preset("broken"))


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    return _generate(tmp_path_factory, preset("messy_payloads"))


@pytest.fixture(scope="module")
def healthy(tmp_path_factory):
    return _generate(tmp_path_factory, preset("healthy"))


def _order_of(platform: str, event: dict) -> str:
    props = event.get("properties" if platform == "tiktok" else "custom_data", {})
    return props.get("order_id") or event["event_id"]


# --- determinism ---------------------------------------------------------------------------

def test_same_seed_gives_byte_identical_files(tmp_path):
    config = preset("broken", days=5)
    generate_shop(config, tmp_path / "a")
    generate_shop(config, tmp_path / "b")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_different_seed_gives_different_files(tmp_path):
    generate_shop(preset("broken", days=5, seed=1), tmp_path / "a")
    generate_shop(preset("broken", days=5, seed=2), tmp_path / "b")
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes(), name


def test_one_platforms_defects_leave_orders_and_other_platforms_alone(tmp_path):
    base = preset("healthy", days=5)
    changed = ShopConfig(days=5, platforms={**base.platforms, "snap": PlatformDefects(late_rate=1)})
    a, b = generate_shop(base, tmp_path / "a"), generate_shop(changed, tmp_path / "b")
    orders_a, orders_b = (tmp_path / d / "orders.csv" for d in "ab")
    assert orders_a.read_bytes() == orders_b.read_bytes()
    assert [e for e in a.events if e.platform != "snap"] == [
        e for e in b.events if e.platform != "snap"]


# --- presets and truth ---------------------------------------------------------------------

def test_presets_are_known_and_unknown_ones_rejected():
    assert set(PRESETS) == {"healthy", "broken", "over_reporting", "messy_payloads"}
    with pytest.raises(ValueError, match="unknown preset"):
        preset("nope")
    with pytest.raises(ValueError, match="browser_rate"):
        PlatformDefects(browser_rate=1.5)


def test_healthy_shop_passes_the_conversion_gap_everywhere(healthy):
    for platform, window in healthy.truth.window.items():
        assert abs(window.gap_pct) < 0.10, platform
        assert window.conversion_gap_status == "pass"


def test_broken_shop_fails_meta(broken):
    meta = broken.truth.window["meta"]
    assert meta.gap_pct >= 0.10 and meta.conversion_gap_status == "fail"
    # Meta never sends guest or app orders server-side.
    for day in broken.truth.days.values():
        if day.platform == "meta":
            assert day.by_path["web_guest"].orders_sent_by_server == 0
            assert day.by_path["app"].orders_sent_by_server == 0


def test_over_reporting_shop_reports_more_than_backend(tmp_path):
    truth = generate_shop(preset("over_reporting"), tmp_path)
    over = [w for w in truth.window.values() if w.gap_pct <= -0.10]
    assert over and all(w.conversion_gap_status == "fail" for w in over)


def test_truth_matches_the_written_orders_and_reports(broken):
    truth = broken.truth
    backend = Counter(
        dt.datetime.fromisoformat(o["created_at"]).astimezone(dt.UTC).date()
        for o in broken.orders.values()
        if o["status"] in ("paid", "fulfilled", "refunded", "partially_refunded")
        and o["is_test"] == "false"
    )
    reported = Counter()
    for row in broken.reports:
        if row["event_name"] == PURCHASE[row["platform"]]:
            reported[dt.date.fromisoformat(row["date"]), row["platform"]] += (
                int(row["events_received"]) - int(row["events_deduplicated"]))
    assert len(truth.days) == 35 * 3
    for (date, platform), day in truth.days.items():
        assert day.backend_purchases == backend[date]
        assert day.platform_reported_purchases == reported[date, platform]
        assert day.orders_accepted <= day.orders_sent_by_server <= day.backend_purchases
        assert day.backend_purchases == sum(p.backend_purchases for p in day.by_path.values())
    written = json.loads((broken.dir / "truth.json").read_text())
    assert written["window"]["meta"]["backend_purchases"] == truth.window["meta"].backend_purchases


def test_orders_export_is_realistic(broken):
    orders = list(broken.orders.values())
    assert [o["order_id"] for o in orders[:2]] == ["1001", "1002"]
    assert {o["created_at"][-6:] for o in orders} == {"+00:00", "+02:00", "-05:00"}
    days = {dt.datetime.fromisoformat(o["created_at"]).astimezone(dt.UTC).date() for o in orders}
    assert min(days) == dt.date(2026, 9, 27) and max(days) == dt.date(2026, 10, 31)
    assert {o["currency"] for o in orders} == {"USD", "EUR"}
    assert {o["status"] for o in orders} >= {"paid", "fulfilled", "cancelled", "pending"}
    assert any(o["email"] != pii.normalize_email(o["email"]) for o in orders if o["email"])
    guests = [o for o in orders if o["checkout_type"] == "guest"]
    assert guests and not any(o["customer_id"] for o in guests)


# --- the delivery log -----------------------------------------------------------------------

def test_log_is_in_sent_at_order_and_gzip_has_no_timestamp(broken):
    sent = [line["sent_at"] for line in broken.log]
    assert sent == sorted(sent)
    assert (broken.dir / "delivery_log.jsonl.gz").read_bytes()[4:8] == b"\0\0\0\0"


def test_meta_server_requests_have_the_native_shape(broken):
    for line, event in broken.server_events("meta"):
        assert set(line) == {"platform", "channel", "pixel_id", "sent_at", "http_status",
                             "request", "response"}
        assert event["event_name"] == "Purchase" and isinstance(event["event_time"], int)
        assert event["action_source"] in {"website", "app", "physical_store"}
        user = event["user_data"]
        for key in ("em", "fn", "ln", "ct", "country", "zp"):
            if key in user:
                assert isinstance(user[key], list) and all(pii.is_sha256(v) for v in user[key])
        assert "client_user_agent" in user
        if line["http_status"] == 200:
            assert line["response"]["events_received"] == len(line["request"]["data"])
        else:
            assert line["response"]["error"]["code"] == 100
        if event["custom_data"].get("currency"):
            assert event["custom_data"]["currency"] in {"usd", "eur"}


def test_tiktok_and_snap_server_requests_have_the_native_shape(broken):
    for line, event in broken.server_events("tiktok"):
        assert line["request"]["event_source"] == "web"
        assert line["request"]["event_source_id"] == line["pixel_id"]
        assert event["event"] == "CompletePayment" and "page" in event
        assert pii.is_sha256(event["user"].get("email", "0" * 64))
        assert line["http_status"] == 200 and "code" in line["response"]
    statuses = Counter()
    for line, event in broken.server_events("snap"):
        assert event["event_name"] == "PURCHASE"
        assert event["action_source"] in {"WEB", "MOBILE_APP", "OFFLINE"}
        assert all(pii.is_sha256(v) for v in event["user_data"].get("em", []))
        statuses[line["http_status"], line["response"]["status"]] += 1
    assert set(statuses) == {(200, "VALID"), (400, "INVALID")}


def test_meta_requests_with_events_older_than_7_days_fail(broken):
    late = 0
    for line, event in broken.server_events("meta"):
        sent_at = dt.datetime.fromisoformat(line["sent_at"]).timestamp()
        if sent_at - event["event_time"] > 7 * 86400:
            late += 1
            assert line["http_status"] == 400 and "error" in line["response"]
    assert late


def test_hashes_are_of_the_normalized_backend_values_unless_a_defect_says_otherwise(broken):
    facts = {(e.platform, e.order_id): e for e in broken.truth.events if e.channel == "server"}
    checked = Counter()
    for platform in ("meta", "tiktok"):
        for _, event in broken.server_events(platform):
            fact = facts[platform, _order_of(platform, event)]
            order = broken.orders[fact.order_id]
            user = event.get("user_data") or event["user"]
            email = user.get("em", [None])[0] if platform == "meta" else user.get("email")
            phone = user.get("ph", [None])[0] if platform == "meta" else user.get("phone")
            assert fact.has_email == (email is not None) and fact.has_phone == (phone is not None)
            if email:
                right = pii.sha256(pii.normalize_email(order["email"]))
                assert pii.is_sha256(email) and (email != right) == fact.unnormalized_email
                checked["unnormalized" if fact.unnormalized_email else "email"] += 1
            if phone:
                digits = pii.phone_digits(order["phone"], order["country"])
                right = pii.sha256(f"+{digits}" if platform == "tiktok" else digits)
                if fact.plaintext_phone:
                    assert phone == order["phone"] and not pii.is_sha256(phone)
                    checked["plaintext"] += 1
                else:
                    assert phone == right
    assert checked["unnormalized"] and checked["plaintext"] and checked["email"]


def test_browser_purchases_only_for_web_orders_of_any_status(broken):
    statuses = Counter()
    for line in broken.log:
        if line["channel"] != "browser":
            continue
        event = line["request"]["data"][0]
        name = event.get("event_name") or event["event"]
        if name != PURCHASE[line["platform"]]:
            continue
        order = broken.orders[_order_of(line["platform"], event)]
        assert order["sales_channel"] == "web"
        statuses[order["status"]] += 1
    assert statuses["cancelled"] or statuses["pending"]  # fires before a cancellation
    assert not any(e.purchase_path in ("app", "pos") for e in broken.truth.events
                   if e.channel == "browser" and e.is_purchase)


def test_non_purchase_browser_events_are_logged(broken):
    names = Counter((line["platform"], (line["request"]["data"][0].get("event_name")
                                        or line["request"]["data"][0]["event"]))
                    for line in broken.log if line["channel"] == "browser")
    for pair in (("meta", "PageView"), ("tiktok", "ViewContent"), ("snap", "ADD_CART")):
        assert names[pair] > 0


def test_snap_browser_events_use_both_dedup_key_names(broken):
    keys = Counter("client_dedup_id" in line["request"]["data"][0]
                   for line in broken.log
                   if line["platform"] == "snap" and line["channel"] == "browser")
    assert keys[True] and keys[False]


def test_batch_size_groups_up_to_three_events(messy):
    sizes = Counter(len(line["request"]["data"]) for line in messy.log
                    if line["platform"] == "meta" and line["channel"] == "server")
    assert max(sizes) == 3 and set(sizes) <= {1, 2, 3}
    others = {len(line["request"]["data"]) for line in messy.log
              if line["platform"] != "meta" and line["channel"] == "server"}
    assert others == {1}


def test_missing_currency_string_values_and_omitted_order_ids_are_in_the_payloads(messy):
    facts = {(e.platform, e.event_id): e for e in messy.truth.events if e.channel == "server"}
    seen = Counter()
    for platform in ("meta", "tiktok"):
        for _, event in messy.server_events(platform):
            fact = facts[platform, event["event_id"]]
            props = event.get("custom_data") or event["properties"]
            assert ("currency" not in props) == fact.missing_currency
            assert isinstance(props["value"], str) == fact.string_value
            assert ("order_id" not in props) == fact.order_id_omitted
            seen.update(k for k in ("missing_currency", "string_value", "order_id_omitted")
                        if getattr(fact, k))
    assert len(seen) == 3


def test_report_has_every_day_and_event_name(broken):
    rows = Counter((r["platform"], r["event_name"]) for r in broken.reports)
    assert set(rows.values()) == {35}
    meta_scores = [r["match_quality_score"] for r in broken.reports
                   if r["platform"] == "meta" and r["event_name"] == "Purchase"]
    assert all(0 <= float(s) <= 10 for s in meta_scores)
    assert not any(r["match_quality_score"] for r in broken.reports if r["platform"] != "meta")
