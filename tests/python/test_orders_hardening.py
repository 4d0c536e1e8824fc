"""No bad input stops a load of orders, platform reports or API records; no reason quotes
customer data; an input of which every row is rejected stops with the likely mapping mistake;
a file read again replaces its rejects; Shopify's line-item rows fold into their order."""

from __future__ import annotations

import csv
import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_pipelines import load, order, query, rejects, write_csv, write_lines

from pipelines.files import InputError
from pipelines.load import SourceCounts
from pipelines.orders import read_orders
from pipelines.platform_reports import read_reports
from pipelines.rejects import LineItems, Position, Rejected, Tally
from pipelines.seeds import load_platforms
from pipelines.sources import meta_graph, stripe
from pipelines.sources.orders_sink import OrdersSink, as_object, mapped
from pipelines.sources.shopify import _updated_at_as_cursor, order_values
from signal_audit_core.config import OrdersConfig, ShopifyConfig, StripeConfig

# Customer data planted in the inputs: none of it may appear in a reason or a loaded text value.
EMAILS = ("planted.one@example.org", "Planted.Two+tag@shop.example.com")
PHONES = ("+1 (415) 555-0134", "(212) 555-0199", "+44 20 7946 0958")
PLANTED = EMAILS + PHONES


def items(files: Iterable[Path], **config: Any) -> tuple[list[dict[str, Any]], list[Rejected], int]:
    """What reading the order files gives: rows, rejects, line-item rows."""
    rows: list[dict[str, Any]] = []
    rejected: list[Rejected] = []
    line_items = 0
    for item in read_orders(list(files), OrdersConfig(**config), workers=1):
        if isinstance(item, Rejected):
            rejected.append(item)
        elif isinstance(item, LineItems):
            line_items += item.rows
        else:
            rows += item.to_pylist()
    return rows, rejected, line_items


def reasons(rejected: Iterable[Rejected]) -> dict[int, str]:
    return {r.position.line: r.reason for r in rejected}


def assert_no_planted(texts: Iterable[Any]) -> None:
    for text in texts:
        if isinstance(text, str):
            for planted in PLANTED:
                assert planted.lower() not in text.lower(), f"{planted!r} in {text!r}"


# --- out-of-range values, deep nesting, bytes ------------------------------------------------

OVERFLOWING = ("9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00")


def test_created_at_out_of_range_is_rejected_in_csv_and_the_years_edge_holds(tmp_path):
    path = write_csv(tmp_path / "o.csv", [
        order("1", created_at=OVERFLOWING[0]),                 # line 2
        order("2", created_at=OVERFLOWING[1]),                 # line 3
        order("3", created_at="2100-01-01T00:00:00Z"),         # line 4: first moment out
        order("4", created_at="2099-12-31T23:59:59Z"),         # line 5: last moment in
        order("5", created_at="1969-12-31T23:59:59Z"),         # line 6
        order("6", created_at="1970-01-01T00:00:00Z"),         # line 7
        order("7", created_at="2100-01-01T04:00:00+05:00"),    # line 8: 2099 in UTC
    ])
    rows, rejected, _ = items([path])
    assert sorted(r["order_id"] for r in rows) == ["4", "6", "7"]
    assert reasons(rejected) == {
        2: f"created_at '{OVERFLOWING[0]}' is outside the years 1970-2099",
        3: f"created_at '{OVERFLOWING[1]}' is outside the years 1970-2099",
        4: "created_at '2100-01-01T00:00:00Z' is outside the years 1970-2099",
        6: "created_at '1969-12-31T23:59:59Z' is outside the years 1970-2099",
    }


def test_jsonl_deep_nesting_huge_and_non_finite_numbers_and_lone_surrogates_are_rejected(tmp_path):
    good = order("ok")
    lines = [
        json.dumps(good),                                                        # 1
        "[" * 300 + "]" * 300,                                                   # 2
        "[" * 100_000,                                                           # 3
        json.dumps({**good, "order_id": "n", "email": {"a": [[[[]]]]}}),         # 4
        '{"order_id": "big", "total_value": ' + "9" * 5000 + "}",                # 5
        json.dumps({**good, "order_id": "inf", "total_value": float("inf")}),    # 6: Infinity
        json.dumps({**good, "order_id": "nan", "total_value": float("nan")}),    # 7: NaN
        json.dumps({**good, "order_id": "huge", "total_value": 10**30}),         # 8
        json.dumps({**good, "order_id": "edge", "total_value": 10**12}),         # 9: loads
        json.dumps({**good, "order_id": "over", "total_value": -(10**12) - 1}),  # 10
        '{"order_id": "s\\ud800", "created_at": "2026-05-01T12:00:00Z"}',        # 11
        json.dumps({**good, "order_id": "ts", "created_at": 10**20}),            # 12
        json.dumps({**good, "order_id": "deep", "x": [[[[[[[[[[[]]]]]]]]]]] * 50}),  # 13: unmapped key
    ]
    rows, rejected, _ = items([write_lines(tmp_path / "o.jsonl", lines)])
    assert sorted(r["order_id"] for r in rows) == ["deep", "edge", "ok"]
    assert reasons(rejected) == {
        2: "not a JSON object",
        3: "malformed JSON: nested too deeply",
        4: "email is a JSON object, not a value",
        5: "malformed JSON: a number too long to read",
        6: "total_value 'inf' is not a number",
        7: "total_value 'nan' is not a number",
        8: "total_value '1000000000000000000000000000000' is out of range (beyond 1,000,000,000,000)",
        10: "total_value '-1000000000001' is out of range (beyond 1,000,000,000,000)",
        11: "order_id is not valid Unicode text (a lone surrogate escape)",
        12: "created_at '100000000000000000000' is not a timestamp",
    }


def test_parquet_values_python_cannot_hold_reject_their_record(tmp_path):
    path = tmp_path / "o.parquet"
    pq.write_table(pa.table({
        "order_id": ["far", "nan", "ok", "over"],
        # 2**40 seconds is in the year 36812: no Python datetime holds it
        "created_at": pa.array([2**40, 1_777_636_800, 1_777_636_800, 1_777_636_800], pa.timestamp("s")),
        "status": ["paid"] * 4,
        "total_value": [1.0, float("nan"), 2.0, 1e13],
        "currency": ["USD"] * 4,
    }), path)
    rows, rejected, _ = items([path])
    assert [r["order_id"] for r in rows] == ["ok"]
    assert reasons(rejected) == {
        1: "column 'created_at' holds a value out of range or not readable",
        2: "total_value 'nan' is not a number",
        4: "total_value '10000000000000.0' is out of range (beyond 1,000,000,000,000)",
    }


def test_any_bytes_in_a_csv_field_are_read_as_text(tmp_path):
    path = tmp_path / "o.csv"
    path.write_bytes(b"order_id,created_at,status,total_value,currency\n"
                     b"1,2026-05-01,paid,1,USD\n"
                     b"2,2026-05-01\x00,pa\x01id,\x7f,USD\n"
                     b'3,2026-05-01,"paid\n')  # an unclosed quote at the end
    rows, rejected, _ = items([path])
    assert [r["order_id"] for r in rows] == ["1"]
    assert reasons(rejected) == {3: "created_at '2026-05-01?' is not a timestamp",
                                 4: "has 3 fields, the header has 5"}


# --- reasons quote no customer data -------------------------------------------------------------

def test_reasons_say_what_a_value_looks_like_instead_of_quoting_customer_data(tmp_path):
    path = write_csv(tmp_path / "o.csv", [
        order("1"),                                         # line 2: loads
        order("2", created_at=EMAILS[0]),                   # 3
        order("3", total_value=PHONES[0]),                  # 4
        order("4", status=EMAILS[1]),                       # 5
        order("5", currency=PHONES[1]),                     # 6
        order(EMAILS[0]),                                   # 7
        order(PHONES[2]),                                   # 8
        order("6", sales_channel=f"web {EMAILS[0]}"),       # 9
        order("7", customer_id=EMAILS[1]),                  # 10: loads, without its customer_id
        order("8", customer_id="2026-0501-0001"),           # 11: a key in groups, kept
        order("2026-0501-0002", created_at="yesterday"),    # 12: words are quoted
    ])
    rows, rejected, _ = items([path])
    assert [(r["order_id"], r["customer_id"]) for r in rows] == [
        ("1", None), ("7", None), ("8", "2026-0501-0001")]
    assert reasons(rejected) == {
        3: "created_at (an e-mail address) is not a timestamp",
        4: "total_value (a phone number) is not a number",
        5: "status (an e-mail address) is customer data, not a status",
        6: "currency (a phone number) is customer data, not a currency",
        7: "order_id (an e-mail address) is customer data, not an order id",
        8: "order_id (a phone number) is customer data, not an order id",
        9: "sales_channel (an e-mail address) is customer data, not a sales channel",
        12: "created_at 'yesterday' is not a timestamp",
    }


def swapped_orders(tmp_path: Path) -> Path:
    """An export whose created_at and email columns a mapping swaps: every row is rejected."""
    return write_csv(tmp_path / "orders.csv", [
        order(str(i), email=EMAILS[i % 2] if i % 3 else "") for i in range(1, 8)])


def test_an_input_of_which_every_row_is_rejected_stops_with_the_likely_mapping_mistake(tmp_path):
    path = swapped_orders(tmp_path)
    with pytest.raises(InputError) as caught:
        load(tmp_path, orders=(path,), columns={"created_at": "email", "email": "created_at"})
    assert str(caught.value) == (
        f"every row of orders file {path} was rejected (7 rows): created_at held values like "
        "e-mail addresses; check orders.columns in signal_audit.yml")
    warehouse = tmp_path / "warehouse" / "audit.duckdb"
    assert not warehouse.exists() or query(
        tmp_path, "select count(*) from information_schema.tables where table_schema = 'raw' "
                  "and table_name in ('orders', 'rejected_rows')") == [(0,)]

    # one row that loads is enough for the rest to be rejects, not a mapping mistake
    write_csv(path, [order("ok"), order("bad", created_at=EMAILS[0])])
    report = load(tmp_path, orders=(path,))
    assert report.counts["orders"] == SourceCounts(read=2, loaded=1, rejected=1)


def test_the_cli_exits_2_with_the_sentence_and_no_customer_data(tmp_path):
    path = swapped_orders(tmp_path)
    config = tmp_path / "signal_audit.yml"
    config.write_text(f"warehouse: {tmp_path / 'w.duckdb'}\ninputs:\n  orders: [{path}]\n"
                      "orders:\n  columns:\n    created_at: email\n    email: created_at\n")
    done = subprocess.run([sys.executable, "-m", "signal_audit.cli", "load", "--config", str(config)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"signal-audit: every row of orders file {path} was rejected (7 rows): created_at held "
        "values like e-mail addresses; check orders.columns in signal_audit.yml")
    assert_no_planted([done.stdout, done.stderr])


def test_a_platform_report_of_which_every_row_is_rejected_stops(tmp_path):
    path = tmp_path / "reports.csv"
    path.write_text("date,platform,event_name,events_received\n"
                    f"{PHONES[0]},meta,Purchase,3\n2026-05-01,meta,Purchase,-1\n{PHONES[1]},meta,Purchase,3\n")
    with pytest.raises(InputError, match=r"^every row of platform report .*reports\.csv was rejected "
                                         r"\(3 rows\): date held values like phone numbers; "
                                         r"check that each column holds what its name says$"):
        list(read_reports([path], load_platforms()))
    path.write_text("date,platform,event_name,events_received\n2026-05-01,meta,Purchase,3\n"
                    f"{PHONES[0]},meta,Purchase,3\n2026-05-01,{EMAILS[0]},Purchase,3\n")
    read = list(read_reports([path], load_platforms()))
    assert [r.reason for r in read if isinstance(r, Rejected)] == [
        "date (a phone number) is not a date (YYYY-MM-DD)",
        "unknown platform (an e-mail address) (known: meta, snap, tiktok)"]


# --- stale rejects ----------------------------------------------------------------------------

def test_a_file_read_again_replaces_its_earlier_rejects(tmp_path):
    path = write_csv(tmp_path / "o.csv", [order("1"), order("2", total_value="x"), order("3", status="")])
    load(tmp_path, orders=(path,))
    assert [r[1:] for r in rejects(tmp_path, "orders")] == [
        (3, "total_value 'x' is not a number"), (4, "missing status")]

    load(tmp_path, orders=(path,), reload_all=True)  # read again as it is: the same rejects, once
    assert [r[1:] for r in rejects(tmp_path, "orders")] == [
        (3, "total_value 'x' is not a number"), (4, "missing status")]

    write_csv(path, [order("1"), order("2"), order("3", status="")])  # line 3 fixed
    report = load(tmp_path, orders=(path,))
    assert report.counts["orders"] == SourceCounts(read=3, loaded=2, rejected=1)
    assert [r[1:] for r in rejects(tmp_path, "orders")] == [(4, "missing status")]

    other = write_csv(tmp_path / "p.csv", [order("9", status=""), order("10")])
    write_csv(path, [order("1"), order("2"), order("3")])
    load(tmp_path, orders=(path, other))  # a file without rejects now: none of its old ones stay
    assert rejects(tmp_path, "orders") == [(str(other), 2, "missing status")]


# --- Shopify's line-item rows -------------------------------------------------------------------

SHOPIFY_HEADER = ["Name", "Email", "Financial Status", "Currency", "Total", "Created at", "Lineitem name"]
SHOPIFY_COLUMNS = {"order_id": "Name", "email": "Email", "status": "Financial Status",
                   "currency": "Currency", "total_value": "Total", "created_at": "Created at"}


def shopify_export(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([SHOPIFY_HEADER, *rows])
    return path


def test_shopify_line_item_rows_fold_into_their_order_and_are_counted_as_such(tmp_path):
    t = "2026-05-01 10:00:00 -0400"
    path = shopify_export(tmp_path / "orders_export.csv", [
        ["#1001", EMAILS[0], "paid", "USD", "30.00", t, "Shirt"],
        ["#1001", EMAILS[0], "", "", "", t, "Socks"],
        ["#1002", EMAILS[1], "refunded", "EUR", "12.50", t, "Hat"],
        ["#1002", EMAILS[1], "", "", "", t, "Scarf"],
        ["#1003", "", "paid", "USD", "5.00", t, "Pin"],
        ["#1003", "", "", "", "", t, "Patch"],
    ])
    report = load(tmp_path, orders=(path,), columns=SHOPIFY_COLUMNS)
    assert report.counts["orders"] == SourceCounts(read=6, loaded=3, rejected=0, line_items=3)
    assert query(tmp_path, "select order_id, status, currency, total_value, _source_line from raw.orders "
                           "order by 1") == [("#1001", "paid", "USD", 30.0, 2), ("#1002", "refunded", "EUR", 12.5, 4),
                                             ("#1003", "paid", "USD", 5.0, 6)]
    assert rejects(tmp_path, "orders") == []


def test_a_line_item_row_that_contradicts_its_order_is_rejected(tmp_path):
    t = "2026-05-01 10:00:00 -0400"
    path = shopify_export(tmp_path / "orders_export.csv", [
        ["#1", "", "paid", "USD", "30.00", t, "a"],      # 2
        ["#1", "", "PAID", "", "30", t, "b"],             # 3: agrees (case, number form)
        ["#1", "", "", "EUR", "", t, "c"],                # 4: another currency
        ["#1", "", "", "", "31.00", t, "d"],              # 5: another total
        ["#1", "", "refunded", "", "", t, "e"],           # 6: another status
        ["#2", "", "paid", "USD", "1", "bad", "f"],       # 7: the order's row is rejected
        ["#2", "", "", "", "", "bad", "g"],               # 8
        ["#3", "", "", "", "", t, "h"],                   # 9: no order row before it
        ["#1", "", "", "", "", t, "i"],                   # 10: #1's row is not the one before
    ])
    rows, rejected, line_items = items([path], columns=SHOPIFY_COLUMNS)
    assert [r["order_id"] for r in rows] == ["#1"] and line_items == 1
    assert reasons(rejected) == {
        4: "line-item row of order '#1' with another currency ('EUR') than its order's row on line 2 ('USD')",
        5: "line-item row of order '#1' with another total_value ('31.00') than its order's row on line 2 ('30.0')",
        6: "line-item row of order '#1' with another status ('refunded') than its order's row on line 2 ('paid')",
        7: "created_at 'bad' is not a timestamp",
        8: "line-item row of order '#2', whose row (line 7) was rejected",
        9: "missing status",
        10: "missing status",
    }


def test_the_cli_prints_line_item_rows(tmp_path):
    t = "2026-05-01 10:00:00 -0400"
    path = shopify_export(tmp_path / "orders_export.csv", [
        ["#1", "", "paid", "USD", "30.00", t, "a"], ["#1", "", "", "", "", t, "b"]])
    config = tmp_path / "signal_audit.yml"
    mapping = "".join(f"    {k}: {v}\n" for k, v in SHOPIFY_COLUMNS.items())
    config.write_text(f"warehouse: {tmp_path / 'w.duckdb'}\ninputs:\n  orders: [{path}]\n"
                      f"orders:\n  columns:\n{mapping}")
    done = subprocess.run([sys.executable, "-m", "signal_audit.cli", "load", "--config", str(config)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "    orders: 2 rows read, 1 loaded, 1 line-item rows\n" in done.stdout


# --- API records --------------------------------------------------------------------------------

def sink_counts(records: list[tuple[str, Any]]) -> tuple[Tally, list[str]]:
    """Records through the orders sink: its tally, and the reasons of its rejects."""
    tally = Tally()
    found: list[str] = []
    for chunk in OrdersSink(OrdersConfig(), tally).chunks(records):
        if "reason" in chunk.data.column_names:
            found += chunk.data["reason"].to_pylist()
    return tally, found


SHOP = ShopifyConfig(shop_url="https://shop.example")


def shopify_record(order: Any) -> tuple[str, Any]:
    return "https://shop.example/orders", mapped(order, lambda o: order_values(o, SHOP))


def test_a_shopify_order_of_an_unexpected_shape_is_one_reject():
    good = {"id": 1, "created_at": "2026-05-01T08:00:00-04:00", "financial_status": "paid",
            "total_price": "25.50", "currency": "USD", "customer": {"id": 7, "email": EMAILS[0]}}
    tally, found = sink_counts([shopify_record(o) for o in (
        good,
        "an order as text",
        {**good, "customer": "text", "billing_address": [1, 2], "shipping_address": 3},  # loads
        {**good, "customer": {"email_marketing_consent": "yes"}, "buyer_accepts_marketing": None},
        {**good, "created_at": OVERFLOWING[1]},
        {**good, "total_price": "1e400"},
        {**good, "source_name": {"nested": True}},
        as_object(["not", "an", "object"]),
    )])
    assert (tally.loaded, tally.rejected) == (4, 4)
    assert found == ["not a JSON object",
                     f"created_at '{OVERFLOWING[1]}' is outside the years 1970-2099",
                     "total_value '1e400' is not a number",
                     "not a JSON object"]


def test_a_bogus_updated_at_never_moves_the_shopify_cursor():
    latest = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    for value in ("9999-12-31T23:59:59-05:00", OVERFLOWING[1], "2026-06-02T00:00:00Z", "soon", 5, None,
                  "2026-05-01T10:00:00"):  # the last without an offset
        assert _updated_at_as_cursor({"updated_at": value}, latest)["updated_at"] is None, value
    kept = _updated_at_as_cursor({"updated_at": "2026-05-31T20:00:00-04:00"}, latest)["updated_at"]
    assert kept == dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    assert _updated_at_as_cursor("text", latest) == {"_signal_audit_not_an_object": "str", "updated_at": None}


def test_a_stripe_charge_of_an_unexpected_shape_is_one_reject():
    config = StripeConfig()
    good = {"id": "ch_1", "created": 1_777_636_800, "status": "succeeded", "amount": 1000, "currency": "usd"}
    records = [
        good,
        {**good, "billing_details": "text", "payment_method_details": [1], "metadata": 5},    # loads
        {**good, "amount_refunded": "lots"},                                                  # loads, paid
        {**good, "created": 10**20},
        {**good, "amount": 10**400},
        7,
    ]
    tally, found = sink_counts([("https://api.stripe.example/v1/charges",
                                 mapped(stripe._created_as_cursor(c, 2_000_000_000),
                                        lambda c: stripe.charge_values(c, config))) for c in records])
    assert (tally.loaded, tally.rejected) == (3, 3)
    assert found == ["created_at '100000000000000000000' is not a timestamp",
                     "total_value 'inf' is not a number",
                     "not a JSON object"]


def test_meta_records_of_an_unexpected_shape_are_rejected_one_by_one():
    fetched = dt.datetime(2026, 5, 1, tzinfo=dt.UTC)
    position = Position("https://graph.example/dataset_quality", 1)
    assert meta_graph.dataset_quality_row("text", "1", fetched, position) == Rejected(position, "not a JSON object")
    row = meta_graph._guarded(meta_graph.dataset_quality_row, position,
                              {"event_name": "Purchase", "event_match_quality": {"composite_score": "1e999"},
                               "acr": "text"}, "1", fetched, position)
    assert not isinstance(row, Rejected) and row[4] is None  # an infinite score is no score
    latest = dt.datetime(2026, 5, 2, tzinfo=dt.UTC)
    for value in ("9999-12-31T23:59:59-05:00", OVERFLOWING[1], "2026-05-03T00:00:00+0000"):
        block = meta_graph._start_time_as_timestamp({"start_time": value, "data": []}, latest)
        assert block["start_time"] is None, value
    hour = meta_graph._start_time_as_timestamp({"start_time": "2026-05-01T10:00:00+0000"}, latest)["start_time"]
    assert meta_graph.pixel_stats_row({"start_time": hour}, "text", "1", fetched, position) == Rejected(
        position, "not a JSON object")
    assert meta_graph.pixel_stats_row({"start_time": None}, {"value": "Purchase", "count": 1}, "1", fetched,
                                      position) == Rejected(position, "missing or unparseable start_time")


# --- properties: read = loaded + rejected (+ line items), a reason for each, no customer data ----

PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# no line breaks (JSON Lines) and no byte-order mark (dropped at the start of a file)
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\ufeff"), max_size=25)
PII = st.sampled_from(PLANTED) | st.sampled_from(PLANTED).map(lambda e: f"see {e} now")
TIMES = (st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30),
                      timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=-5)),
                                                 dt.timezone(dt.timedelta(hours=14))])).map(dt.datetime.isoformat)
         | st.sampled_from(OVERFLOWING + ("2026-05-01", "yesterday", "")))
NUMBERS = (st.floats().map(str) | st.integers(-(10**30), 10**30).map(str)
           | st.sampled_from(["1e400", "NaN", "-Infinity", "1,5", "", "12.50"]))
ORDER_IDS = st.sampled_from(["1", "2", "3", ""]) | TEXT
FIELD = {
    "order_id": ORDER_IDS | PII, "created_at": TIMES | PII | TEXT, "status": st.sampled_from(["paid", ""]) | PII,
    "total_value": NUMBERS | PII, "currency": st.sampled_from(["USD", ""]) | PII | TEXT,
    "sales_channel": st.sampled_from(["web", "pos", ""]) | PII, "customer_id": TEXT | PII,
    "email": PII | TEXT, "phone": PII | TEXT, "first_name": TEXT, "zip": TEXT, "country": TEXT,
    "marketing_consent": TEXT, "is_test": TEXT,
}
GOOD = {
    "order_id": st.sampled_from(["1", "2", "3", "#1001", "2026-0501-0001"]),
    "created_at": st.datetimes(min_value=dt.datetime(1970, 1, 2), max_value=dt.datetime(2099, 12, 30),
                               timezones=st.sampled_from([None, dt.UTC])).map(dt.datetime.isoformat),
    "status": st.sampled_from(["paid", "refunded"]), "total_value": st.sampled_from(["12.50", "0", "-3"]),
    "currency": st.just("USD"), "sales_channel": st.sampled_from(["web", ""]), "customer_id": st.just(""),
    "email": PII, "phone": PII, "first_name": TEXT, "zip": TEXT, "country": TEXT, "marketing_consent": TEXT,
    "is_test": st.just(""),
}


def rows_of(good: dict[str, st.SearchStrategy[Any]], bad: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Rows that are good but for a few fields (so that most files load some rows and reject
    others): each bad field takes any value of its strategy in `bad`."""
    spoilt = st.lists(st.sampled_from(sorted(bad)).flatmap(lambda name: bad[name].map(lambda v: (name, v))),
                      max_size=3).map(dict)
    row = st.builds(lambda base, changes: {**base, **changes}, st.fixed_dictionaries(good), spoilt)
    return st.lists(row, min_size=1, max_size=12)


ORDER_ROWS = rows_of(GOOD, FIELD)


def check_orders(path: Path, expected_read: int, **config: Any) -> None:
    """Reading `path` accounts for every row, gives each reject a reason, and lets no planted
    value through; or stops with the all-rejected sentence, which quotes none either."""
    try:
        rows, rejected, line_items = items([path], **config)
    except InputError as exc:  # every row rejected; or (JSON Lines) no line with a required key
        assert str(exc).startswith("every row of orders file") or " has no column " in str(exc)
        assert_no_planted([str(exc)])
        return
    assert len(rows) + len(rejected) + line_items == expected_read
    assert all(r.reason.strip() for r in rejected)
    assert_no_planted(r.reason for r in rejected)
    assert_no_planted(value for row in rows for value in row.values())


@PROPERTY
@given(ORDER_ROWS)
def test_property_orders_csv(tmp_path_factory, rows):
    path = write_csv(tmp_path_factory.mktemp("csv") / "o.csv", rows, header=list(FIELD))
    check_orders(path, sum(1 for row in rows if "".join(row.values()).strip()))


@PROPERTY
@given(ORDER_ROWS, st.booleans())
def test_property_orders_parquet(tmp_path_factory, rows, typed):
    table = pa.Table.from_pylist(rows)
    if typed:  # totals as numbers where they are numbers, as an export from a database writes them
        def number(text: str) -> float | None:
            try:
                return float(text)
            except ValueError:
                return None
        table = table.set_column(table.schema.get_field_index("total_value"), "total_value",
                                 pa.array([number(r["total_value"]) for r in rows], pa.float64()))
    path = tmp_path_factory.mktemp("parquet") / "o.parquet"
    pq.write_table(table, path)
    check_orders(path, len(rows))


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers(-(10**40), 10**40) | TEXT | PII,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8)
JSONL_LINES = st.lists(
    rows_of(GOOD, {**FIELD, "total_value": JSON_VALUES, "email": JSON_VALUES}).map(
        lambda rows: [json.dumps(row) for row in rows])
    | st.lists(st.dictionaries(st.sampled_from(list(FIELD)), JSON_VALUES).map(json.dumps)
               | st.integers(1, 3000).map(lambda depth: "[" * depth + "]" * depth)
               | TEXT, max_size=4),
    min_size=1, max_size=3).map(lambda groups: [line for group in groups for line in group])


@PROPERTY
@given(JSONL_LINES)
def test_property_orders_jsonl(tmp_path_factory, lines):
    path = write_lines(tmp_path_factory.mktemp("jsonl") / "o.jsonl", lines)
    check_orders(path, sum(1 for line in lines if line.strip()))


GOOD_REPORT = {
    "date": st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)).map(dt.date.isoformat),
    "platform": st.sampled_from(["meta", "tiktok", "snap"]), "event_name": st.sampled_from(["Purchase", "x"]),
    "events_received": st.integers(0, 10**6).map(str), "events_deduplicated": st.just(""),
    "match_quality_score": st.sampled_from(["", "7.5"]),
}
REPORT_FIELDS = {
    "date": st.dates().map(dt.date.isoformat) | PII | TEXT,
    "platform": st.sampled_from(["meta", "tiktok", "snap", "Meta", ""]) | PII | TEXT,
    "event_name": st.sampled_from(["Purchase", ""]) | TEXT,
    "events_received": NUMBERS | PII, "events_deduplicated": NUMBERS,
    "match_quality_score": NUMBERS | PII,
}


@PROPERTY
@given(rows_of(GOOD_REPORT, REPORT_FIELDS))
def test_property_platform_reports_csv(tmp_path_factory, rows):
    path = write_csv(tmp_path_factory.mktemp("reports") / "r.csv", rows, header=list(REPORT_FIELDS))
    try:
        read = list(read_reports([path], load_platforms()))
    except InputError as exc:
        assert str(exc).startswith("every row of platform report")
        assert_no_planted([str(exc)])
        return
    assert len(read) == sum(1 for row in rows if "".join(row.values()).strip())
    rejected = [r for r in read if isinstance(r, Rejected)]
    assert all(r.reason.strip() for r in rejected)
    assert_no_planted(r.reason for r in rejected)


SHOPIFY_ORDERS = st.lists(
    st.fixed_dictionaries({
        "id": st.integers(1, 10**6) | TEXT, "created_at": TIMES | PII, "financial_status": JSON_VALUES | PII,
        "total_price": NUMBERS | JSON_VALUES, "currency": st.just("USD") | JSON_VALUES,
        "email": PII | JSON_VALUES, "customer": JSON_VALUES, "billing_address": JSON_VALUES,
        "source_name": JSON_VALUES, "buyer_accepts_marketing": JSON_VALUES,
    }) | JSON_VALUES.map(as_object),
    min_size=1, max_size=12)


@PROPERTY
@given(SHOPIFY_ORDERS)
def test_property_shopify_orders(orders):
    tally, found = sink_counts([shopify_record(o) for o in orders])
    assert tally.loaded + tally.rejected == len(orders) == len(found) + tally.loaded
    assert all(reason.strip() for reason in found)
    assert_no_planted(found)


def test_a_shopify_page_of_bad_records_loads_the_good_ones_and_keeps_the_cursor(tmp_path, monkeypatch):
    from fakes.server import Answer
    from fakes.shopify import FakeShopify, shopify_order
    from sources_helpers import config as source_config
    from sources_helpers import query as source_query

    from pipelines.load import run_load

    token = "shpat_0123456789abcdef0123456789abcdef"
    monkeypatch.setenv("SOURCES__SHOPIFY__ACCESS_TOKEN", token)
    good = shopify_order(1, "2026-05-01T10:00:00-04:00")
    page = [
        good,
        "an order as text",
        [1, 2],
        {**shopify_order(2, "9999-12-31T23:59:59-05:00"), "customer": "text", "billing_address": [1]},
        {**shopify_order(3, OVERFLOWING[1]), "created_at": OVERFLOWING[1]},
        {**shopify_order(4, "never"), "total_price": "NaN", "note": [[[[[[[[]]]]]]]] * 300},
        {**shopify_order(5, "2026-05-02T10:00:00-04:00"), "email": EMAILS[0], "financial_status": EMAILS[1]},
    ]
    with FakeShopify(token) as shopify:
        shopify.fail_next(Answer(200, {"orders": page}))
        cfg = source_config(tmp_path, shopify=ShopifyConfig(shop_url=shopify.url))
        report = run_load(cfg)
        assert report.counts["shopify_orders"] == SourceCounts(read=7, loaded=2, rejected=5)
        reasons = [r for (r,) in source_query(cfg, "select reason from raw.rejected_rows order by source_line")]
        assert reasons == ["not a JSON object", "not a JSON object",
                           f"created_at '{OVERFLOWING[1]}' is outside the years 1970-2099",
                           "total_value 'NaN' is not a number",
                           "status (an e-mail address) is customer data, not a status"]
        shopify.clear_log()
        run_load(cfg)  # the cursor is the latest real time read (a rejected order's too), not 9999
        assert shopify.requests[0].query["updated_at_min"] == "2026-05-02T10:00:00-04:00"
