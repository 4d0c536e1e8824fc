"""Known-answer tests: generated shops whose right figures follow from how they were made.

Each preset is audited once (dlt -> dbt build -> GX); the marts must show exactly the
figures the generator's own decisions imply.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from audit_harness import AuditedShop

from signal_audit.demo.delivery import EventFact

PRESETS = ("healthy", "broken", "over_reporting", "messy_payloads")
CHECKS = {"conversion_gap", "match_quality", "email_coverage", "field_coverage",
          "deduplication", "timeliness", "pii_hashing"}


def server_purchases(shop: AuditedShop, platform: str) -> list[EventFact]:
    return [e for e in shop.truth.events if e.platform == platform and e.channel == "server" and e.is_purchase]


# ---------------------------------------------------------------- conversion gap


@pytest.mark.parametrize("name", PRESETS)
def test_conversion_gap_daily_matches_the_generated_truth(audited, name):
    shop = audited(name)
    mart = {
        (r["report_date"], r["platform"]): r
        for r in shop.rows("select * from marts.fct_conversion_gap_daily")
    }
    for (day, platform), truth in shop.truth.days.items():
        row = mart[day, platform]
        assert (row["backend_purchases"], row["orders_sent_by_server"], row["orders_accepted"],
                row["platform_reported_purchases"]) == (
            truth.backend_purchases, truth.orders_sent_by_server, truth.orders_accepted,
            truth.platform_reported_purchases), (day, platform)
        if truth.backend_purchases:
            expected_gap = (truth.backend_purchases - truth.platform_reported_purchases) / truth.backend_purchases
            assert row["gap_pct"] == pytest.approx(expected_gap)
            assert row["capture_gap_pct"] == pytest.approx(
                (truth.backend_purchases - truth.orders_sent_by_server) / truth.backend_purchases)
    # no day outside the generated range carries backend purchases
    assert all(r["backend_purchases"] == 0 for k, r in mart.items() if k not in shop.truth.days)


@pytest.mark.parametrize("name", PRESETS)
def test_conversion_gap_by_path_matches_the_generated_truth(audited, name):
    shop = audited(name)
    mart = {
        (r["report_date"], r["platform"], r["purchase_path"]): r
        for r in shop.rows("select * from marts.fct_conversion_gap_by_path")
    }
    for (day, platform), truth in shop.truth.days.items():
        for path, expected in truth.by_path.items():
            row = mart.get((day, platform, path))
            got = (0, 0, 0) if row is None else (
                row["backend_purchases"], row["orders_sent_by_server"], row["orders_accepted"])
            assert got == (expected.backend_purchases, expected.orders_sent_by_server,
                           expected.orders_accepted), (day, platform, path)


@pytest.mark.parametrize("name", PRESETS)
def test_conversion_gap_check_over_the_window(audited, name):
    shop = audited(name)
    card = shop.scorecard()
    for platform, window in shop.truth.window.items():
        row = card[platform, "conversion_gap"]
        assert row["status"] == window.conversion_gap_status, row["summary"]
        assert row["metric_value"] == pytest.approx(window.gap_pct)
        assert (row["window_start"], row["window_end"]) == (window.window_start, window.window_end)
        assert row["threshold"] == pytest.approx(0.10)


def test_broken_shop_names_the_missing_paths(audited):
    card = audited("broken").scorecard()
    meta = card["meta", "conversion_gap"]
    assert meta["status"] == "fail"
    # Meta never sends guest checkouts and app purchases server-side: guest checkouts are
    # the larger share of the two in the default path mix
    assert "never sent by your server, mostly web guest checkouts" in meta["summary"]


def test_over_reporting_is_a_failure_that_names_the_hidden_paths(audited):
    shop = audited("over_reporting")
    row = shop.scorecard()["tiktok", "conversion_gap"]
    window = shop.truth.window["tiktok"]
    assert window.platform_reported_purchases > window.backend_purchases
    assert row["status"] == "fail" and row["metric_value"] < -0.10
    assert "counted twice" in row["summary"]
    assert "never sent" in row["summary"] and "in-app purchases" in row["summary"]
    daily = shop.rows("select status from marts.fct_conversion_gap_daily where platform = 'tiktok'")
    assert Counter(r["status"] for r in daily)["over_reported"] > 0


# ---------------------------------------------------------------- the whole scorecard


def test_healthy_shop_passes_every_check_without_false_alarms(audited):
    shop = audited("healthy")
    card = shop.scorecard()
    assert {check for _, check in card} == CHECKS
    failing = {k: r["summary"] for k, r in card.items() if r["status"] != "pass"}
    assert failing == {}
    assert shop.checks.success


@pytest.mark.parametrize("name", PRESETS)
def test_great_expectations_fails_exactly_where_the_scorecard_fails(audited, name):
    shop = audited(name)
    dbt_failures = {k for k, r in shop.scorecard().items() if r["status"] == "fail"}
    gx_failures = {(p, o.check_name) for o in shop.checks.outcomes for p in o.failing_platforms}
    assert gx_failures == dbt_failures
    # the suite on the whole scorecard names the same rows; the landed data passes
    guards = {g.name: set(g.failing) for g in shop.checks.guards}
    assert guards == {"no scorecard row fails": {f"{p} {c}" for p, c in dbt_failures},
                      "share of rows rejected per input": set(), "age of the newest rows per input": set()}
    assert shop.checks.success == (not dbt_failures)


def test_broken_shop_fails_on_its_planted_defects(audited):
    card = audited("broken").scorecard()
    failing = {k for k, r in card.items() if r["status"] == "fail"}
    assert failing == {("meta", "conversion_gap"), ("tiktok", "conversion_gap"), ("tiktok", "pii_hashing")}
    assert card["tiktok", "deduplication"]["status"] == "warn"  # 30% of ids mismatched
    assert card["meta", "timeliness"]["status"] == "warn"  # late batches, some too old for Meta


# ---------------------------------------------------------------- match quality and fields


@pytest.mark.parametrize("name", ["broken", "messy_payloads"])
def test_plaintext_and_mismatched_hashes_are_counted_per_day(audited, name):
    shop = audited(name)
    expected_plain: Counter = Counter()
    expected_mismatch: Counter = Counter()
    for e in shop.truth.events:
        if e.channel == "server":
            key = (e.event_time.date(), e.platform)
            expected_plain[key] += e.plaintext_phone
            expected_mismatch[key] += e.unnormalized_email
    got = {
        (r["report_date"], r["platform"]): r
        for r in shop.rows(
            "select report_date, platform, sum(unhashed_pii_events) as plain, "
            "sum(hash_mismatch_events) as mismatch from marts.fct_match_quality_daily group by 1, 2"
        )
    }
    for key in expected_plain.keys() | got.keys():
        row = got.get(key, {"plain": 0, "mismatch": 0})
        assert (row["plain"], row["mismatch"]) == (expected_plain[key], expected_mismatch[key]), key


@pytest.mark.parametrize("name", PRESETS)
def test_email_and_phone_key_coverage(audited, name):
    shop = audited(name)
    rows = shop.rows(
        "select platform, match_key, sum(events) as events, sum(events_with_key) as with_key, "
        "sum(invalid_events) as invalid from marts.fct_match_key_coverage_daily "
        "where match_key in ('email', 'phone') group by 1, 2"
    )
    got = {(r["platform"], r["match_key"]): r for r in rows}
    for platform in shop.truth.window:
        events = server_purchases(shop, platform)
        email = got[platform, "email"]
        phone = got[platform, "phone"]
        assert email["events"] == len(events)
        assert email["with_key"] == sum(e.has_email for e in events)
        assert phone["with_key"] == sum(e.has_phone and not e.plaintext_phone for e in events)
        assert phone["invalid"] == sum(e.plaintext_phone for e in events)


@pytest.mark.parametrize("name", ["broken", "messy_payloads"])
def test_field_coverage_of_currency_and_value(audited, name):
    shop = audited(name)
    rows = shop.rows(
        "select platform, field_name, sum(events) as events, sum(events_present) as present, "
        "sum(events_valid) as valid from marts.fct_field_coverage_daily "
        "where field_name in ('currency', 'value') group by 1, 2"
    )
    got = {(r["platform"], r["field_name"]): r for r in rows}
    for platform in shop.truth.window:
        events = server_purchases(shop, platform)
        currency, value = got[platform, "currency"], got[platform, "value"]
        assert currency["events"] == len(events)
        assert currency["present"] == currency["valid"] == sum(not e.missing_currency for e in events)
        assert value["present"] == len(events)
        assert value["valid"] == sum(not e.string_value for e in events)


# ---------------------------------------------------------------- dedup and timeliness


@pytest.mark.parametrize("name", PRESETS)
def test_dedup_counts_orders_with_both_sides_and_matching_ids(audited, name):
    shop = audited(name)
    counted = {e.order_id for e in shop.truth.events if e.channel == "server"}
    by_order: dict[tuple[str, str], dict[str, list[EventFact]]] = defaultdict(lambda: defaultdict(list))
    for e in shop.truth.events:
        if e.is_purchase and e.order_id in counted:
            by_order[e.platform, e.order_id][e.channel].append(e)
    expected: dict[str, Counter] = defaultdict(Counter)
    for (platform, _), sides in by_order.items():
        if sides["browser"] and sides["server"]:
            expected[platform]["both"] += 1
            expected[platform]["matching"] += any(
                b.event_id == s.event_id and abs(b.sent_at - s.sent_at) <= dt.timedelta(hours=48)
                for b in sides["browser"] for s in sides["server"]
            )
    rows = shop.rows(
        "select platform, sum(orders_with_both) as both_, sum(matching_event_id_orders) as matching, "
        "sum(double_count_risk_orders) as risk from marts.fct_dedup_daily group by 1"
    )
    for r in rows:
        exp = expected[r["platform"]]
        assert (r["both_"], r["matching"], r["risk"]) == (
            exp["both"], exp["matching"], exp["both"] - exp["matching"]), r["platform"]


@pytest.mark.parametrize("name", ["broken", "messy_payloads"])
def test_latency_and_events_too_old(audited, name):
    shop = audited(name)
    max_age = {"meta": 7, "tiktok": 28, "snap": 37}
    rows = shop.rows(
        "select platform, sum(server_purchase_events) as events, "
        "sum(within_threshold_pct * events_with_order) as within, sum(events_too_old) as too_old "
        "from marts.fct_event_latency_daily group by 1"
    )
    for r in rows:
        events = server_purchases(shop, r["platform"])
        assert r["events"] == len(events)
        assert round(r["within"]) == sum((e.sent_at - e.event_time).total_seconds() <= 3600 for e in events)
        assert r["too_old"] == sum(
            e.sent_at - e.event_time > dt.timedelta(days=max_age[r["platform"]]) for e in events)


# ---------------------------------------------------------------- privacy


def test_no_plaintext_customer_data_anywhere_in_the_warehouse(audited):
    shop = audited("broken")
    import csv

    with open(shop.shop_dir / "orders.csv", newline="") as fh:
        orders = list(csv.DictReader(fh))
    secrets = {o["email"].strip().lower() for o in orders if o["email"].strip()}
    secrets |= {o["phone"].strip() for o in orders if len(o["phone"].strip()) > 6}
    secrets |= {o["last_name"].strip() for o in orders if len(o["last_name"].strip()) > 3}
    tables = shop.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'"
    )
    found = []
    for schema, table, column in tables:
        values = shop.query(f'select distinct lower("{column}") from "{schema}"."{table}"')
        text = "\n".join(v for (v,) in values if v)
        found += [(schema, table, column, s) for s in secrets if s.lower() in text]
    assert found == []

