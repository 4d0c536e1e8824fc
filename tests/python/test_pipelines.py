"""The dlt pipelines that land orders, the delivery log and platform reports in raw.*."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import dlt
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.delivery_log import read_delivery_log
from pipelines.files import InputError
from pipelines.load import LoadReport, SourceCounts, run_load, state_dir
from pipelines.log_lines import REDACTED
from pipelines.log_sql import LogChunk
from pipelines.orders import read_orders
from pipelines.rejects import Rejected
from pipelines.seeds import load_platforms
from signal_audit_core.config import Config, InputsConfig, OrdersConfig
from signal_audit_core.warehouse import WarehouseBusy

EMAIL = " John_Smith@gmail.com "
EMAIL_SHA256 = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
PHONE = "(650) 555-1212"
PHONE_SHA256 = "e323ec626319ca94ee8bff2e4c87cf613be6ea19919ed1364124e16807ab3176"  # 16505551212
US_SHA256 = "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621"
# Plaintext in the test inputs that must never be found in the warehouse, in any column,
# nor in the normalized forms that are hashed.
PLAINTEXT = ("john_smith@gmail.com", "(650) 555-1212", "Zebulon", "Quixley", "Menlo Park",
             "jane.doe@example.com", "4155550100", "(415) 555-0100", "Ximena")
NORMALIZED = ("6505551212", "menlopark", "+14155550100")

ORDER_HEADER = ["order_id", "created_at", "status", "total_value", "currency", "sales_channel",
                "checkout_type", "customer_id", "email", "phone", "first_name", "last_name",
                "city", "state", "zip", "country", "marketing_consent", "is_test"]


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def order(order_id: str, **values: str) -> dict[str, str]:
    row = {"order_id": order_id, "created_at": "2026-05-01T12:00:00Z", "status": "paid",
           "total_value": "10.00", "currency": "USD"}
    return {**row, **values}


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] = ORDER_HEADER) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_lines(path: Path, lines: list[str]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return path


def load(tmp_path: Path, orders: tuple[Path, ...] = (), delivery_log: tuple[Path, ...] = (),
         platform_reports: tuple[Path, ...] = (), reload_all: bool = False, **orders_config: Any) -> LoadReport:
    config = Config(
        warehouse=tmp_path / "warehouse" / "audit.duckdb",
        inputs=InputsConfig(
            orders=tuple(map(str, orders)),
            delivery_log=tuple(map(str, delivery_log)),
            platform_reports=tuple(map(str, platform_reports)),
        ),
        orders=OrdersConfig(**orders_config),
    )
    return run_load(config, reload_all=reload_all)


def query(tmp_path: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(tmp_path / "warehouse" / "audit.duckdb"), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def rejects(tmp_path: Path, source: str) -> list[tuple[str, int, str]]:
    return query(tmp_path, "select source_file, source_line, reason from raw.rejected_rows "
                           f"where source = '{source}' order by source_file, source_line")


def column_types(tmp_path: Path, table: str) -> dict[str, str]:
    return dict(query(tmp_path, "select column_name, data_type from information_schema.columns "
                                f"where table_schema = 'raw' and table_name = '{table}' "
                                "order by ordinal_position"))


def raw_contents(tmp_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    # _dlt_load_id names the load that last wrote a row: a reload re-stamps it on purpose
    return {t: query(tmp_path, f"select * exclude (_dlt_load_id) from raw.{t} order by all")
            for t in ("orders", "delivery_log", "platform_reports", "rejected_rows")}


# --- a small shop's files --------------------------------------------------------------------

def shop_orders(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "orders.csv", [
        order("1001", email=EMAIL, phone=PHONE, first_name="Zebulon", last_name="Quixley",
              city="Menlo Park", state="CA", zip="94025-1234", country="US",
              checkout_type="Guest", sales_channel="", customer_id="c-1",
              marketing_consent="yes", is_test="no", status=" Paid ", currency="usd"),  # line 2
        order("", email="jane.doe@example.com"),                                         # line 3
        order("1003", created_at="yesterday"),                                           # line 4
        order("1004", total_value="abc"),                                                # line 5
        order("1005", status="pending", phone="4155550100", country="",
              first_name="Ximena"),                                                      # line 6
        order("1005", status="paid", sales_channel="APP", is_test="1"),                  # line 7
    ])


META_EVENT = {"event_name": "Purchase", "event_time": 1777636803, "event_id": "1001",
              "user_data": {"em": [EMAIL_SHA256], "ph": "+1 (415) 555-0100",
                            "client_ip_address": "10.0.0.1"},
              "custom_data": {"order_id": "1001", "value": 10.0, "currency": "USD"}}
TIKTOK_LINE = json.dumps({
    "platform": "TikTok", "channel": "server", "pixel_id": "TT1",
    "sent_at": "2026-05-01T14:00:05+02:00", "http_status": 200,
    "request": {"event_source": "web", "event_source_id": "TT1",
                "data": [{"event": "CompletePayment", "event_time": 1777636805,
                          "user": {"email": EMAIL_SHA256, "phone": sha256("+16505551212"),
                                   "external_id": "c-1"},
                          "properties": {"order_id": "1001"}}]},
    "response": {"code": 0, "message": "OK"}})


def shop_delivery_log(tmp_path: Path) -> Path:
    meta = {"platform": "meta", "channel": "server", "pixel_id": "123",
            "sent_at": "2026-05-01T12:00:03Z", "http_status": 200,
            "request": {"data": [META_EVENT]}, "response": {"events_received": 1}}
    snap = {"platform": "snap", "channel": "browser", "sent_at": "2026-05-01T12:00:01Z",
            "request": {"data": [{"event_name": "PURCHASE",
                                  "user_data": {"em": ["Jane.Doe@Example.com", EMAIL_SHA256]}}]}}
    return write_lines(tmp_path / "delivery.jsonl", [
        json.dumps(meta),                                                           # line 1
        '{"platform": "meta" "channel": "server"}',                                 # line 2
        "",                                                                         # line 3
        json.dumps({**meta, "platform": "pinterest"}),                              # line 4
        TIKTOK_LINE,                                                                # line 5
        json.dumps({k: v for k, v in meta.items() if k != "sent_at"}),              # line 6
        TIKTOK_LINE + "  ",                                                         # line 7
        json.dumps(snap),                                                           # line 8
    ])


def shop_reports(tmp_path: Path) -> Path:
    header = ["date", "platform", "pixel_id", "event_name", "events_received",
              "events_deduplicated", "events_matched", "match_quality_score"]
    rows = [
        ["2026-05-01", "Meta", "123", "Purchase", "40", "2", "35", "6.8"],   # line 2
        ["2026-05-01", "tiktok", "", "CompletePayment", "12", "", "", ""],   # line 3
        ["2026-05-01", "snap", "S1", "PURCHASE", "-3", "", "", ""],          # line 4
        ["2026-05-01", "meta", "123", "Purchase", "41", "2", "36", "7.1"],   # line 5
    ]
    path = tmp_path / "reports.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


@pytest.fixture
def shop(tmp_path: Path) -> tuple[Path, Path, Path]:
    return shop_orders(tmp_path), shop_delivery_log(tmp_path), shop_reports(tmp_path)


# --- orders ----------------------------------------------------------------------------------

def test_orders_are_validated_hashed_and_the_later_duplicate_wins(tmp_path, shop):
    orders_file = shop[0]
    report = load(tmp_path, orders=(orders_file,))

    assert report.counts["orders"] == SourceCounts(read=6, loaded=2, rejected=4)
    assert report.files["orders"] == (str(orders_file),)
    f = str(orders_file)
    assert rejects(tmp_path, "orders") == [
        (f, 3, "missing order_id"),
        (f, 4, "created_at 'yesterday' is not a timestamp"),
        (f, 5, "total_value 'abc' is not a number"),
        (f, 6, f"superseded by {f}:7"),
    ]
    rows = query(tmp_path, """
        select order_id, created_at::varchar, status, total_value, currency, sales_channel,
               checkout_type, customer_id, email_sha256, phone_sha256, phone_e164_sha256,
               first_name_sha256, last_name_sha256, city_sha256, state_sha256, zip_sha256,
               country_sha256, marketing_consent, is_test, _source_file, _source_line
        from raw.orders order by order_id""")
    assert rows == [
        ("1001", "2026-05-01 12:00:00+00", "paid", 10.0, "USD", "web", "guest", "c-1",
         EMAIL_SHA256, PHONE_SHA256, sha256("+16505551212"), sha256("zebulon"),
         sha256("quixley"), sha256("menlopark"), sha256("ca"), sha256("94025"), US_SHA256,
         True, False, f, 2),
        ("1005", "2026-05-01 12:00:00+00", "paid", 10.0, "USD", "app", None, None,
         None, None, None, None, None, None, None, None, None, None, True, f, 7),
    ]


def test_raw_tables_have_declared_types_and_all_exist_after_loading_only_orders(tmp_path, shop):
    load(tmp_path, orders=(shop[0],))

    assert column_types(tmp_path, "orders") == {
        "order_id": "VARCHAR", "created_at": "TIMESTAMP WITH TIME ZONE", "status": "VARCHAR",
        "total_value": "DOUBLE", "currency": "VARCHAR", "sales_channel": "VARCHAR",
        "checkout_type": "VARCHAR", "customer_id": "VARCHAR", "email_sha256": "VARCHAR",
        "phone_sha256": "VARCHAR", "phone_e164_sha256": "VARCHAR",
        "first_name_sha256": "VARCHAR", "last_name_sha256": "VARCHAR", "city_sha256": "VARCHAR",
        "state_sha256": "VARCHAR", "zip_sha256": "VARCHAR", "country_sha256": "VARCHAR",
        "marketing_consent": "BOOLEAN", "is_test": "BOOLEAN", "_source_file": "VARCHAR",
        "_source_line": "BIGINT", "_dlt_load_id": "VARCHAR",
    }
    assert column_types(tmp_path, "delivery_log") == {
        "record_id": "VARCHAR", "platform": "VARCHAR", "channel": "VARCHAR",
        "pixel_id": "VARCHAR", "sent_at": "TIMESTAMP WITH TIME ZONE", "http_status": "INTEGER",
        "request": "VARCHAR", "response": "VARCHAR", "redacted_values": "INTEGER",
        "_source_file": "VARCHAR", "_source_line": "BIGINT", "_dlt_load_id": "VARCHAR",
    }
    assert column_types(tmp_path, "delivery_event_pii") == {
        "record_id": "VARCHAR", "event_index": "INTEGER", "place": "VARCHAR", "kind": "VARCHAR",
        "values_found": "INTEGER", "_source_file": "VARCHAR", "_source_line": "BIGINT", "_dlt_load_id": "VARCHAR",
    }
    events = column_types(tmp_path, "delivery_events")
    assert {name: events[name] for name in ("event_index", "sent_at", "value_raw", "key_email", "key_click_id")} == {
        "event_index": "BIGINT", "sent_at": "TIMESTAMP WITH TIME ZONE", "value_raw": "VARCHAR",
        "key_email": "VARCHAR", "key_click_id": "VARCHAR"}
    assert column_types(tmp_path, "platform_reports") == {
        "report_date": "DATE", "platform": "VARCHAR", "pixel_id": "VARCHAR",
        "event_name": "VARCHAR", "events_received": "BIGINT", "events_deduplicated": "BIGINT",
        "events_matched": "BIGINT", "match_quality_score": "DOUBLE",
        "_source_file": "VARCHAR", "_source_line": "BIGINT", "_dlt_load_id": "VARCHAR",
    }
    assert column_types(tmp_path, "rejected_rows") == {
        "source": "VARCHAR", "source_file": "VARCHAR", "source_line": "BIGINT",
        "reason": "VARCHAR", "_dlt_load_id": "VARCHAR",
    }
    assert query(tmp_path, "select count(*) from raw.delivery_log") == [(0,)]


def test_all_raw_tables_exist_when_every_row_is_valid_or_no_input_is_given(tmp_path):
    write_csv(tmp_path / "ok.csv", [order("1")])
    load(tmp_path, orders=(tmp_path / "ok.csv",))
    load(tmp_path)  # no inputs at all: still a successful, harmless load

    tables = query(tmp_path, "select table_name from information_schema.tables "
                             "where table_schema = 'raw' and table_name not like '_dlt%' "
                             "order by 1")
    assert tables == [("_loaded_files",), ("delivery_event_pii",), ("delivery_events",), ("delivery_log",),
                      ("meta_dataset_quality",), ("meta_pixel_stats",),
                      ("orders",), ("platform_reports",), ("rejected_rows",)]
    assert query(tmp_path, "select count(*) from raw.orders") == [(1,)]
    assert query(tmp_path, "select count(*) from raw.rejected_rows") == [(0,)]


def test_column_mapping_renames_the_users_columns(tmp_path):
    path = tmp_path / "shopify.csv"
    header = ["Name", "Created at", "Financial Status", "Total", "Currency", "Email"]
    write_csv(path, [{"Name": "#1001", "Created at": "2026-05-01 08:00:00 -04:00",
                      "Financial Status": "paid", "Total": "12.5", "Currency": "EUR",
                      "Email": EMAIL}], header=header)
    mapping = {"order_id": "Name", "created_at": "Created at", "status": "Financial Status",
               "total_value": "Total", "currency": "Currency", "email": "Email"}
    report = load(tmp_path, orders=(path,), columns=mapping)

    assert report.counts["orders"] == SourceCounts(read=1, loaded=1, rejected=0)
    assert query(tmp_path, "select order_id, created_at::varchar, total_value, currency, "
                           "email_sha256 from raw.orders") == [
        ("#1001", "2026-05-01 12:00:00+00", 12.5, "EUR", EMAIL_SHA256)]


def test_a_required_column_missing_from_the_file_is_a_clear_error(tmp_path):
    path = write_csv(tmp_path / "orders.csv", [{"id": "1", "created_at": "2026-05-01",
                                                "status": "paid", "total": "1", "currency": "USD"}],
                     header=["id", "created_at", "status", "total", "currency"])
    with pytest.raises(InputError) as error:
        load(tmp_path, orders=(path,), columns={"order_id": "order_number"})
    message = str(error.value)
    assert str(path) in message
    assert "'order_number' (for order_id)" in message
    assert "'total_value'" in message
    assert "id, created_at, status, total, currency" in message
    # Nothing was loaded and the next, corrected run is not blocked by a pending package.
    report = load(tmp_path, orders=(path,), columns={"order_id": "id", "total_value": "total"})
    assert report.counts["orders"].loaded == 1


def test_a_pattern_that_matches_nothing_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match=r"orders: no file matches '.*/exports/\*\.csv'"):
        load(tmp_path, orders=(tmp_path / "exports" / "*.csv",))
    with pytest.raises(InputError, match=r"delivery_log: file '.*/missing\.jsonl' does not exist"):
        load(tmp_path, delivery_log=(tmp_path / "missing.jsonl",))
    with pytest.raises(InputError, match="cannot tell the format"):
        load(tmp_path, orders=(write_lines(tmp_path / "orders.txt", ["x"]),))


def test_parquet_jsonl_and_gzip_orders_load_like_csv(tmp_path):
    pq.write_table(pa.table({
        "order_id": ["p1", "p2"],
        "created_at": pa.array([1777636800_000000, None], pa.timestamp("us")),  # naive
        "status": ["paid", "paid"],
        "total_value": [10.0, 11.0],
        "currency": ["USD", "USD"],
        "phone": ["+44 20 7946 0958", None],
    }), tmp_path / "a.parquet")
    write_lines(tmp_path / "b.jsonl.gz", [
        json.dumps({"order_id": 7, "created_at": "2026-05-01T10:00:00", "status": "paid",
                    "total_value": 5, "currency": "USD", "email": EMAIL}),
        "[1, 2]",
        "{not json",
    ])
    write_csv(tmp_path / "c.csv.gz", [order("c1")])
    report = load(tmp_path, orders=(tmp_path / "*.parquet", tmp_path / "*.gz"),
                  naive_timezone="Europe/Berlin")

    assert report.counts["orders"] == SourceCounts(read=6, loaded=3, rejected=3)
    assert query(tmp_path, "select order_id, created_at::varchar, phone_sha256, email_sha256, "
                           "_source_line from raw.orders order by order_id") == [
        ("7", "2026-05-01 08:00:00+00", None, EMAIL_SHA256, 1),
        ("c1", "2026-05-01 12:00:00+00", None, None, 2),
        ("p1", "2026-05-01 10:00:00+00", sha256("442079460958"), None, 1),
    ]
    a, b = str(tmp_path / "a.parquet"), str(tmp_path / "b.jsonl.gz")
    assert rejects(tmp_path, "orders") == [
        (a, 2, "missing created_at"),
        (b, 2, "not a JSON object"),
        (b, 3, "malformed JSON: Expecting property name enclosed in double quotes"),
    ]


def test_order_files_parsed_in_worker_processes_give_what_one_process_gives(tmp_path):
    day1 = write_csv(tmp_path / "1.csv", [order("a", email=EMAIL), order("b"), order("c", status=""),
                                          order("a", status="refunded")])
    day2 = write_lines(tmp_path / "2.jsonl", [json.dumps(order("b", status="shipped")), "[1]",
                                              json.dumps(order("a", total_value="x"))])
    day3 = write_csv(tmp_path / "3.csv", [order("d"), order("b", status="refunded")])

    def read(workers: int) -> tuple[list[dict[str, Any]], list[Rejected]]:
        items = list(read_orders([day1, day2, day3], OrdersConfig(), workers=workers))
        rows = pa.Table.from_batches([i for i in items if isinstance(i, pa.RecordBatch)])
        return rows.to_pylist(), [i for i in items if isinstance(i, Rejected)]

    rows, rejected = read(workers=2)
    assert (rows, rejected) == read(workers=1)
    assert [(r["order_id"], r["status"], r["_source_file"], r["_source_line"]) for r in rows] == [
        ("a", "refunded", str(day1), 5), ("d", "paid", str(day3), 2), ("b", "refunded", str(day3), 3)]
    assert {(r.position.file, r.position.line, r.reason) for r in rejected} == {
        (str(day1), 2, f"superseded by {day1}:5"),
        (str(day1), 3, f"superseded by {day3}:3"),
        (str(day1), 4, "missing status"),
        (str(day2), 1, f"superseded by {day3}:3"),
        (str(day2), 2, "not a JSON object"),
        (str(day2), 3, "total_value 'x' is not a number"),
    }


def test_jsonl_orders_where_no_line_has_a_required_key_are_a_clear_error(tmp_path):
    path = write_lines(tmp_path / "orders.jsonl", [
        json.dumps({"id": "1", "created_at": "2026-05-01T00:00:00Z", "status": "paid",
                    "total_value": 1, "currency": "USD"})])
    with pytest.raises(InputError, match=r"orders\.jsonl has no column 'order_id'; "
                                         r"its columns are: created_at, currency, id, status"):
        load(tmp_path, orders=(path,))


def test_csv_rows_of_the_wrong_width_are_rejected_and_empty_rows_skipped(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order_id,created_at,status,total_value,currency\n"
                    '1,2026-05-01,paid,"1,5",USD\n'
                    "2,2026-05-01,paid,1,5,USD\n"
                    ",,,,\n"
                    "\n"
                    '3,2026-05-01,"paid\nlate",1,USD\n'
                    "4,2026-05-01,paid,2,USD\n")
    report = load(tmp_path, orders=(path,))

    assert report.counts["orders"] == SourceCounts(read=4, loaded=2, rejected=2)
    assert rejects(tmp_path, "orders") == [
        (str(path), 2, "total_value '1,5' is not a number"),
        (str(path), 3, "has 6 fields, the header has 5"),
    ]
    # A quoted value spanning lines 6-7: the row is numbered by the line it starts on.
    assert query(tmp_path, "select order_id, _source_line from raw.orders order by 1") == [
        ("3", 6), ("4", 8)]


def test_a_phone_without_country_code_uses_the_orders_country_or_the_default_region(tmp_path):
    write_csv(tmp_path / "o.csv", [order("gb", phone="020 7946 0958", country="GB"),
                                   order("us", phone="(650) 555-1212")])
    load(tmp_path, orders=(tmp_path / "o.csv",), default_phone_region="US")
    assert query(tmp_path, "select order_id, phone_sha256 from raw.orders order by 1") == [
        ("gb", sha256("442079460958")), ("us", PHONE_SHA256)]


# --- delivery log ----------------------------------------------------------------------------

def test_delivery_log_rejects_bad_lines_and_redacts_plaintext_match_keys(tmp_path, shop):
    log_file = shop[1]
    report = load(tmp_path, delivery_log=(log_file,))

    f = str(log_file)
    assert report.counts["delivery_log"] == SourceCounts(read=7, loaded=3, rejected=4)
    assert rejects(tmp_path, "delivery_log") == [
        (f, 2, "malformed JSON: unexpected character, expected ',' or '}'"),
        (f, 4, "unknown platform 'pinterest' (known: meta, snap, tiktok)"),
        (f, 6, "missing sent_at"),
        (f, 7, f"duplicate of {f}:5"),
    ]
    rows = {r[1]: r for r in query(tmp_path, """
        select record_id, platform, channel, pixel_id, sent_at::varchar, http_status,
               request, response, redacted_values, _source_line
        from raw.delivery_log""")}
    assert set(rows) == {"meta", "tiktok", "snap"}

    meta = rows["meta"]
    lines = log_file.read_text().splitlines()
    assert meta[0] == sha256(lines[0])
    assert meta[2:6] == ("server", "123", "2026-05-01 12:00:03+00", 200)
    user_data = json.loads(meta[6])["data"][0]["user_data"]
    assert user_data == {"em": [EMAIL_SHA256], "ph": REDACTED, "client_ip_address": "10.0.0.1"}
    assert json.loads(meta[7]) == {"events_received": 1}
    assert meta[8] == 1
    assert ", " not in meta[6]  # compact JSON

    tiktok = rows["tiktok"]
    assert tiktok[0] == sha256(TIKTOK_LINE)
    assert tiktok[4] == "2026-05-01 12:00:05+00"
    assert json.loads(tiktok[6]) == json.loads(TIKTOK_LINE)["request"]  # nothing to redact
    assert tiktok[8] == 0

    snap = rows["snap"]
    assert snap[2:6] == ("browser", None, "2026-05-01 12:00:01+00", None)
    assert json.loads(snap[6])["data"][0]["user_data"]["em"] == [REDACTED, EMAIL_SHA256]
    assert (snap[7], snap[8]) == (None, 1)


def test_the_first_copy_of_a_repeated_log_line_wins_across_files_and_loads(tmp_path):
    day1 = shop_delivery_log(tmp_path)
    day2 = write_lines(tmp_path / "day2.jsonl.gz", [
        TIKTOK_LINE,                    # a repeat of day 1's line 5
        "[1, 2]",
        "",
        TIKTOK_LINE.replace("TT1", "TT2"),
        TIKTOK_LINE.replace("TT1", "TT2"),
    ])
    day3 = write_lines(tmp_path / "day3.jsonl", [TIKTOK_LINE.replace("TT1", "TT2")])

    items = list(read_delivery_log([day1, day2, day3], load_platforms()))
    rows = pa.concat_tables([i.lines for i in items if isinstance(i, LogChunk)]).to_pylist()
    rejected = [i for i in items if isinstance(i, Rejected)]
    assert [(r["_source_file"], r["_source_line"]) for r in rows] == [
        (str(day1), 1), (str(day1), 5), (str(day1), 8), (str(day2), 4)]
    assert {(r.position.file, r.position.line, r.reason) for r in rejected} == {
        (str(day1), 2, "malformed JSON: unexpected character, expected ',' or '}'"),
        (str(day1), 4, "unknown platform 'pinterest' (known: meta, snap, tiktok)"),
        (str(day1), 6, "missing sent_at"),
        (str(day1), 7, f"duplicate of {day1}:5"),
        (str(day2), 1, f"duplicate of {day1}:5"),
        (str(day2), 2, "not a JSON object"),
        (str(day2), 5, f"duplicate of {day2}:4"),
        (str(day3), 1, f"duplicate of {day2}:4"),
    }

    # loaded by an earlier load: a line read again where it was is counted as loaded, not
    # landed twice; elsewhere it is a duplicate of where it landed
    first = load(tmp_path, delivery_log=(day1,))
    second = load(tmp_path, delivery_log=(day1,), reload_all=True)
    assert first.counts["delivery_log"] == second.counts["delivery_log"] == SourceCounts(read=7, loaded=3, rejected=4)
    assert query(tmp_path, "select count(*), count(distinct record_id) from raw.delivery_log") == [(3, 3)]
    again = write_lines(tmp_path / "again.jsonl", [TIKTOK_LINE])
    third = load(tmp_path, delivery_log=(day1, again))
    assert third.counts["delivery_log"] == SourceCounts(read=1, loaded=0, rejected=1)
    assert ("delivery_log", str(again), 1, f"duplicate of {day1}:5") in query(
        tmp_path, "select source, source_file, source_line, reason from raw.rejected_rows")


def test_a_broken_log_file_is_an_input_error(tmp_path):
    good = write_lines(tmp_path / "a.jsonl", [TIKTOK_LINE])
    broken = tmp_path / "b.jsonl.gz"
    broken.write_bytes(gzip.compress(TIKTOK_LINE.encode())[:-12])
    with pytest.raises(InputError, match="b.jsonl.gz is not a complete gzip file"):
        list(read_delivery_log([good, broken], load_platforms()))


def test_parsing_workers_do_not_import_dlt():
    # worker processes import these modules; dlt's import would cost each about a second
    code = ("import sys, pipelines.log_lines, pipelines.log_sql, pipelines.order_records; "
            "print(any(m.split('.')[0] == 'dlt' for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"


def test_platform_reports_reject_bad_rows_and_the_later_row_wins(tmp_path, shop):
    report_file = shop[2]
    report = load(tmp_path, platform_reports=(report_file,))

    f = str(report_file)
    assert report.counts["platform_reports"] == SourceCounts(read=4, loaded=2, rejected=2)
    assert rejects(tmp_path, "platform_reports") == [
        (f, 2, f"superseded by {f}:5"),
        (f, 4, "events_received '-3' is negative"),
    ]
    assert query(tmp_path, "select * exclude (_dlt_load_id) from raw.platform_reports order by platform") == [
        (dt.date(2026, 5, 1), "meta", "123", "Purchase", 41, 2, 36, 7.1, f, 5),
        (dt.date(2026, 5, 1), "tiktok", "", "CompletePayment", 12, None,
         None, None, f, 3),
    ]


# --- the warehouse as a whole ----------------------------------------------------------------

def test_no_plaintext_pii_lands_in_any_table(tmp_path, shop):
    load(tmp_path, orders=(shop[0],), delivery_log=(shop[1],), platform_reports=(shop[2],))
    inputs = "".join(path.read_text() for path in shop).lower()
    assert all(text.lower() in inputs for text in PLAINTEXT)  # the search below is not vacuous

    columns = query(tmp_path, "select table_schema, table_name, column_name "
                              "from information_schema.columns where data_type = 'VARCHAR'")
    assert len(columns) > 30
    for schema, table, column in columns:
        for text in PLAINTEXT + NORMALIZED:
            hits = query(tmp_path, f'select count(*) from "{schema}"."{table}" '
                                   f'where "{column}" ilike ?', [f"%{text}%"])
            assert hits == [(0,)], f"{text!r} found in {schema}.{table}.{column}"


def test_rerunning_with_the_same_files_changes_no_row(tmp_path, shop):
    files = {"orders": (shop[0],), "delivery_log": (shop[1],), "platform_reports": (shop[2],)}
    first = load(tmp_path, **files)
    before = raw_contents(tmp_path)
    assert sum(len(rows) for rows in before.values()) == 2 + 3 + 2 + 10

    # unchanged files are not read again
    second = load(tmp_path, **files)
    assert raw_contents(tmp_path) == before
    assert {name: c.read for name, c in second.counts.items() if name in files} == dict.fromkeys(files, 0)
    assert second.skipped == {name: (str(paths[0].resolve()),) for name, paths in files.items()}

    # read again in full on demand: the same rows, the same counts
    third = load(tmp_path, reload_all=True, **files)
    assert raw_contents(tmp_path) == before
    assert third.counts == first.counts


def test_only_new_or_changed_files_are_read(tmp_path):
    day1 = write_csv(tmp_path / "orders_1.csv", [order("1"), order("2")])
    load(tmp_path, orders=(tmp_path / "orders_*.csv",))
    write_csv(tmp_path / "orders_2.csv", [order("3")])
    second = load(tmp_path, orders=(tmp_path / "orders_*.csv",))
    assert second.counts["orders"].read == 1
    assert second.skipped["orders"] == (str(day1.resolve()),)

    write_csv(day1, [order("1"), order("2", status="refunded")])  # a re-export of day 1
    third = load(tmp_path, orders=(tmp_path / "orders_*.csv",))
    assert third.counts["orders"].read == 2
    assert query(tmp_path, "select order_id, status from raw.orders order by order_id") == [
        ("1", "paid"), ("2", "refunded"), ("3", "paid")]


def test_a_pending_package_from_a_failed_run_is_dropped(tmp_path):
    write_csv(tmp_path / "ok.csv", [order("1")])
    warehouse = tmp_path / "warehouse" / "audit.duckdb"
    warehouse.parent.mkdir()
    # Leave an extracted but never loaded package behind, as a crash after extract would.
    stale = dlt.pipeline(pipeline_name="signal_audit", pipelines_dir=str(state_dir(warehouse)),
                         destination=dlt.destinations.duckdb(str(warehouse)), dataset_name="raw")
    stale.extract([{"x": 1}], table_name="stale")
    assert stale.has_pending_data

    load(tmp_path, orders=(tmp_path / "ok.csv",))
    tables = {t for (t,) in query(tmp_path, "select table_name from information_schema.tables")}
    assert "stale" not in tables
    assert query(tmp_path, "select order_id from raw.orders") == [("1",)]


def test_a_warehouse_held_open_by_another_process_is_reported_as_busy(tmp_path):
    warehouse = tmp_path / "warehouse" / "audit.duckdb"
    warehouse.parent.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); "
                               "print('open', flush=True); sys.stdin.read()", str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        with pytest.raises(WarehouseBusy, match="in use by another process"):
            load(tmp_path)
    finally:
        holder.communicate(input="", timeout=30)
