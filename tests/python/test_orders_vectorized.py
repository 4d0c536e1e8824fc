"""Orders read by column give what the per-row rules give: PII hashed per distinct value equals
the per-value reference functions, and a CSV file judged by Arrow loads, rejects and folds
exactly the rows the per-row reader does, with the same reasons and values."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_orders_hardening import EMAILS, PHONES, items, reasons
from test_pipelines import ORDER_HEADER, sha256

from pipelines import order_csv
from pipelines.order_pii import HASH_COLUMNS, PII_COLUMNS, by_distinct, by_distinct_pairs, hashed
from signal_audit_core import pii
from signal_audit_core.config import OrdersConfig

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# --- PII hashed by column = the per-value reference ----------------------------------------

def reference(row: dict[str, Any], default_region: str | None) -> dict[str, str | None]:
    """One order's hashes the way each row was hashed before: the pii functions on its values."""
    def text(value: Any) -> str | None:
        return None if value is None else str(value).strip() or None

    p = {name: text(row.get(name)) for name in PII_COLUMNS}
    country = p["country"]
    region = country if country is not None and len(country) == 2 and country.isalpha() else default_region
    digits, e164 = pii.phone_sha256(p["phone"], region)
    return {
        "email_sha256": pii.email_sha256(p["email"]), "phone_sha256": digits, "phone_e164_sha256": e164,
        "first_name_sha256": pii.name_sha256(p["first_name"]), "last_name_sha256": pii.name_sha256(p["last_name"]),
        "city_sha256": pii.city_sha256(p["city"]), "state_sha256": pii.state_sha256(p["state"]),
        "zip_sha256": pii.zip_sha256(p["zip"], country), "country_sha256": pii.country_sha256(country),
    }


UNICODE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
PHONE_VALUES = (st.sampled_from(PHONES + ("650.555.1212", "030 1234567", "0049 30 1234567", "+1 650 555 0000",
                                          "(650) 555-1212", "5551212", "  ", ""))
                | st.from_regex(r"\+?[0-9 ()\-]{0,16}", fullmatch=True) | UNICODE)
COUNTRIES = st.sampled_from(["US", "us", " US ", "GB", "DE", "United States", "1", "", "  "]) | UNICODE
VALUES = {
    "email": st.sampled_from(EMAILS + (" John_Smith@gmail.com ", "JOHN_SMITH@GMAIL.COM")) | UNICODE,
    "phone": PHONE_VALUES,
    "first_name": st.sampled_from(["Zoë", "ZOË", "Zoe\u0308", "O'Brien", " Ana "]) | UNICODE,
    "last_name": UNICODE, "city": st.sampled_from(["New York, NY", "São Paulo", "Menlo Park"]) | UNICODE,
    "state": st.sampled_from(["N.Y.", " ny ", "CA"]) | UNICODE,
    "zip": st.sampled_from(["94025-1234", "SW1A 1AA", "94025"]) | UNICODE,
    "country": COUNTRIES,
}
# rows drawn from a small pool, so that columns repeat values (the point of hashing per distinct)
PII_ROWS = st.lists(st.fixed_dictionaries({name: st.none() | values for name, values in VALUES.items()}),
                    min_size=1, max_size=6).flatmap(
    lambda pool: st.lists(st.sampled_from(pool), max_size=40))


@SETTINGS
@given(PII_ROWS, st.sampled_from([None, "US", "DE"]))
def test_pii_hashed_by_column_equals_the_per_value_reference(rows, default_region):
    columns = {name: pa.array([row[name] for row in rows], pa.string()) for name in PII_COLUMNS}
    got = hashed(columns, len(rows), default_region)
    assert list(got) == list(HASH_COLUMNS)
    assert [{name: got[name][i].as_py() for name in HASH_COLUMNS} for i in range(len(rows))] == [
        reference(row, default_region) for row in rows]


def test_pii_columns_of_other_types_and_absent_ones_hash_as_their_text():
    columns = {"zip": pa.array([94025, None, 94025], pa.int64()),
               "country": pa.array(["US", "US", None]).dictionary_encode(),
               "phone": pa.chunked_array([["6505551212"], ["6505551212", None]])}
    got = hashed(columns, 3, "US")
    assert got["zip_sha256"].to_pylist() == [sha256("94025"), None, sha256("94025")]
    assert got["country_sha256"].to_pylist() == [sha256("us"), sha256("us"), None]
    assert got["phone_sha256"].to_pylist() == [sha256("16505551212")] * 2 + [None]
    assert got["email_sha256"].to_pylist() == [None] * 3


def test_each_distinct_value_and_pair_is_computed_once():
    calls: list[Any] = []
    values = pa.array(["a", "b", "a", None, "b", None])
    assert by_distinct(values, lambda v: calls.append(v) or (v or "-") * 2).to_pylist() == [
        "aa", "bb", "aa", "--", "bb", "--"]
    assert sorted(calls, key=str) == [None, "a", "b"]
    calls.clear()
    regions = pa.array(["US", "US", "DE", "US", "US", None])
    pairs = by_distinct_pairs(values, regions, lambda v, r: calls.append((v, r)) or f"{v}/{r}")
    assert pairs.to_pylist() == ["a/US", "b/US", "a/DE", "None/US", "b/US", "None/None"]
    assert len(calls) == 5


# --- a CSV file judged by Arrow = the per-row reader ---------------------------------------

# no line breaks: most files are Arrow's to read (order_csv.read); quotes and commas, written
# as they are, make odd CSV that both readers must read alike
PLAIN = (st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='\r\n\x00\ufeff'), max_size=12)
         | st.sampled_from(['"quoted"', '"a, b"', 'x"y', '"a""b"', '"ab"c', ' "ab"', '"', '""']))
TIMES = (st.datetimes(min_value=dt.datetime(1969, 12, 31), max_value=dt.datetime(2100, 1, 2),
                      timezones=st.sampled_from([None, dt.UTC, dt.timezone(dt.timedelta(hours=-5)),
                                                 dt.timezone(dt.timedelta(hours=5, minutes=30))]))
         .flatmap(lambda t: st.sampled_from([t.isoformat(), t.isoformat(" "), t.isoformat(timespec="seconds"),
                                             t.isoformat(timespec="milliseconds").replace("+00:00", "Z")]))
         | st.sampled_from(["2026-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2026-04-31T00:00:00+02:00",
                            "2026-05-01", "2026-05-01T12:00", "2026-05-01T24:00:00Z", "9999-12-31T23:59:59-05:00",
                            "2026-05-01T12:00:00+14:00", "2026-11-01T01:30:00", "2026-03-08T02:30:00",
                            " 2026-05-01T12:00:00Z", "yesterday", ""]))
TOTALS = st.sampled_from(["10.00", "-3", "0", "1e3", " 5", "1_000", "NaN", "999999999999.99", "1000000000000.5",
                          "00012.50", "-0", "", "x"]) | st.decimals(allow_nan=False, places=2).map(str)
IDS = st.sampled_from(["1", "2", "#1001", "2026-0501-0001", " 3", "", "+1 (415) 555-0134", "a@b.co", "ö1"])
FIELDS = {
    "order_id": IDS, "created_at": TIMES,
    "status": st.sampled_from(["paid", "Refunded", " fulfilled ", "", "+1 (415) 555-0134", "Ünpaid"]),
    "total_value": TOTALS, "currency": st.sampled_from(["USD", "eur", "", EMAILS[0], " gbp"]),
    "sales_channel": st.sampled_from(["web", "POS", "", EMAILS[0], "app"]),
    "checkout_type": st.sampled_from(["guest", "Account", "", "x"]),
    "customer_id": st.sampled_from(["C1", "", EMAILS[0], "+1 (415) 555-0134", "cus 9", "(212)"]) | PLAIN,
    "email": st.sampled_from(EMAILS) | PLAIN, "phone": st.sampled_from(PHONES) | PLAIN,
    "first_name": PLAIN, "last_name": PLAIN, "city": PLAIN, "state": PLAIN, "zip": PLAIN,
    "country": st.sampled_from(["US", "de", "United States", ""]),
    "marketing_consent": st.sampled_from(["true", "No", "1", "", "maybe"]),
    "is_test": st.sampled_from(["false", "TRUE", "", "yes"]),
}
GOOD = {**FIELDS, "order_id": st.sampled_from(["1", "2", "3", "#1001"]),
        "created_at": st.sampled_from(["2026-05-01T12:00:00Z", "2026-05-01T12:00:00.5+02:00", "2026-05-01 08:00:00"]),
        "status": st.just("paid"), "total_value": st.just("10.00"), "currency": st.just("USD")}


@st.composite
def csv_rows(draw: Any) -> list[dict[str, str]]:
    """Rows of an order file: good ones, any, Shopify line items, blank ones."""
    rows: list[dict[str, str]] = []
    for _ in range(draw(st.integers(1, 14))):
        kind = draw(st.sampled_from(["good", "good", "any", "line item", "blank"]))
        if kind == "line item" and rows:  # Shopify: the order's id again, order-level fields blank or not
            row = {**draw(st.fixed_dictionaries(GOOD)), "order_id": rows[-1]["order_id"]}
            for name in draw(st.lists(st.sampled_from(["status", "total_value", "currency"]), min_size=1)):
                row[name] = draw(st.sampled_from(["", rows[-1][name], "refunded", "11", "EUR"]))
        elif kind == "blank":
            row = dict.fromkeys(FIELDS, draw(st.sampled_from(["", " "])))
        else:
            row = draw(st.fixed_dictionaries(GOOD if kind == "good" else FIELDS))
        rows.append(row)
    return rows


def write_plain_csv(path: Path, rows: list[dict[str, str]], crlf: bool, quoted: bool = False) -> Path:
    """Values as they are, joined by commas; or `quoted` as the csv module quotes them."""
    end = "\r\n" if crlf else "\n"
    with path.open("w", encoding="utf-8", newline="") as fh:
        if quoted:
            writer = csv.writer(fh, lineterminator=end)
            writer.writerows([ORDER_HEADER] + [[row[n] for n in ORDER_HEADER] for row in rows])
        else:
            lines = [",".join(ORDER_HEADER)] + [",".join(row[n] for n in ORDER_HEADER) for row in rows]
            fh.write(end.join(lines) + end)
    return path


def per_row(path: Path, monkeypatch: pytest.MonkeyPatch, **config: Any) -> Any:
    """What the per-row reader gives for `path` (the Arrow reader declined)."""
    with monkeypatch.context() as patched:
        patched.setattr(order_csv, "read", lambda path, config: None)
        return outcome(path, **config)


def outcome(path: Path, **config: Any) -> Any:
    try:
        rows, rejected, line_items = items([path], **config)
    except Exception as exc:  # noqa: BLE001 (the per-row reader's error is part of what must agree)
        return type(exc).__name__, str(exc)
    return (sorted(rows, key=lambda r: r["_source_line"]),
            sorted((r.position.line, r.reason) for r in rejected), line_items)


@SETTINGS
@given(csv_rows(), st.booleans(), st.booleans(), st.sampled_from(["UTC", "America/New_York"]))
def test_a_csv_file_judged_by_arrow_gives_what_the_per_row_reader_gives(
        tmp_path_factory, monkeypatch, rows, crlf, quoted, naive_timezone):
    path = write_plain_csv(tmp_path_factory.mktemp("csv") / "o.csv", rows, crlf, quoted)
    config = {"naive_timezone": naive_timezone, "default_phone_region": "US"}
    assert outcome(path, **config) == per_row(path, monkeypatch, **config)


def test_files_arrow_would_read_otherwise_are_left_to_the_per_row_reader(tmp_path, monkeypatch):
    good = "1,2026-05-01T12:00:00Z,paid,10,USD"
    config = OrdersConfig()
    header = "order_id,created_at,status,total_value,currency\n"
    for name, body in {"quoted line break": f'{good}\n"2\n",2026-05-01T12:00:00Z,paid,10,USD\n',
                       "bare cr": f"{good}\r{good}\n",
                       "nul": f"{good}\x00\n", "short row": f"{good}\n2,2026\n"}.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(header + body, encoding="utf-8", newline="")
        assert order_csv.read(path, config) is None, name
    (tmp_path / "plain.csv").write_text(header + good + "\n", encoding="utf-8")
    assert order_csv.read(tmp_path / "plain.csv", config).table.num_rows == 1
    quoted = tmp_path / "quoted.csv"
    quoted.write_text(header + f'{good}\n"2",2026-05-01T12:00:00Z,"pa""id",10,USD\n', encoding="utf-8")
    assert order_csv.read(quoted, config).table.column("status").to_pylist() == ["paid", 'pa"id']
    quoted.write_text('"order_id",created_at,status,total_value,currency\n' + good + "\n", encoding="utf-8")
    assert order_csv.read(quoted, config) is None  # a quoted header: the per-row reader's
    # a blank line is a row of blanks to Arrow, skipped as the per-row reader skips it
    blank = tmp_path / "blank line.csv"
    blank.write_text(header + f"{good}\n\n , ,,,\n2{good[1:]}\n", encoding="utf-8")
    assert order_csv.read(blank, config).table.num_rows == 4
    assert outcome(blank) == per_row(blank, monkeypatch)
    assert [row["_source_line"] for row in outcome(blank)[0]] == [2, 5]
    (tmp_path / "latin1.csv").write_bytes((header + good.replace("paid", "pa\xefd") + "\n").encode("latin-1"))
    assert order_csv.read(tmp_path / "latin1.csv", config) is None


def test_clean_rows_are_judged_by_arrow_and_the_rest_by_the_per_row_rules(tmp_path):
    rows = [
        {**dict.fromkeys(ORDER_HEADER, ""), "order_id": "1", "created_at": "2026-05-01T12:00:00+02:00",
         "status": "Paid", "total_value": "10.50", "currency": "usd", "customer_id": "C1", "email": EMAILS[1],
         "phone": "(650) 555-1212", "country": "US", "marketing_consent": "yes"},
        {**dict.fromkeys(ORDER_HEADER, ""), "order_id": "1", "created_at": "2026-05-01T12:00:00Z", "status": "",
         "total_value": "", "currency": "", "email": EMAILS[1]},                      # a line item of order 1
        {**dict.fromkeys(ORDER_HEADER, ""), "order_id": "2", "created_at": "2026-05-01", "status": "paid",
         "total_value": "1e1", "currency": "USD"},                                    # valid, odd shapes: Python
        {**dict.fromkeys(ORDER_HEADER, ""), "order_id": "3", "created_at": "2026-02-30T00:00:00Z", "status": "paid",
         "total_value": "1", "currency": "USD"},                                      # no such day
    ]
    path = write_plain_csv(tmp_path / "o.csv", rows, crlf=False)
    part = next(order_csv.read(path, OrdersConfig()).parts(order_csv.ZoneInfo("UTC")))
    assert part.clean.to_pylist() == [True, False, False, False]
    loaded, rejected, line_items = items([path])
    assert [(r["order_id"], r["created_at"], r["status"], r["total_value"], r["currency"], r["marketing_consent"])
            for r in loaded] == [
        ("1", dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC), "paid", 10.5, "USD", True),
        ("2", dt.datetime(2026, 5, 1, tzinfo=dt.UTC), "paid", 10.0, "USD", None)]
    assert loaded[0]["phone_sha256"] == sha256("16505551212")
    assert loaded[0]["email_sha256"] == sha256(EMAILS[1].lower())
    assert reasons(rejected) == {5: "created_at '2026-02-30T00:00:00Z' is not a timestamp"}
    assert line_items == 1
