"""E-mail addresses and phone numbers planted in every part of delivery-log lines never land
anywhere the audit writes, and the pii_hashing check counts them by place.

One real audit (`signal-audit run`, then `export` as Parquet and CSV) of a small healthy shop
plus planted lines; then every column of every table and view, every file under the warehouse
folder (dlt's working folder, GX, the report, history), dbt's target and logs, the exports
and the temporary folder are searched for the planted values and their normalized forms.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import duckdb
import pyarrow.parquet as pq
import pytest

from signal_audit.demo import generate_shop
from signal_audit.demo.profiles import preset
from signal_audit_core.config import PROJECT_DIR
from signal_audit_core.pii import EMAIL_MARK, PHONE_MARK, find_contacts, may_hold_contact

HASH = "a" * 64
# Planted values, each unique to this test, and the forms a careless pipeline might keep:
# lowercased, percent-encoded, E.164 and bare digits.
EMAILS = ("Quilla.Vantreese@Example.org", "ORSOLYA.BRANDT@mailbox.example", "t.okonkwo+shop@example.net",
          "wendeline.marsh@example.com", "ysolde@shop-mail.example", "kestrel.avon@example.io",
          "hollis.pym@example.co.uk")
PHONES = ("+1 415 555 0147", "(628) 555-0193", "+44 20 7946 0321", "650-555-0178",
          "+1 (707) 555-0112", "+14085550166")
NEEDLES = (
    *{e.lower() for e in EMAILS}, *{quote(e.lower(), safe="") for e in EMAILS},
    "14155550147", "6285550193", "442079460321", "6505550178", "17075550112", "14085550166",
    "415 555 0147", "555-0193", "7946 0321", "555-0178", "555-0112",
)
EVENT_TIME = int(dt.datetime(2026, 10, 30, 12, tzinfo=dt.UTC).timestamp())
SENT_AT = "2026-10-30T12:00:05Z"


# --- what is detected, and what is not ------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("jane.doe@example.com", (EMAIL_MARK, 1, 0)),
    ("JANE+promo@Mail.Example.co.uk", (EMAIL_MARK, 1, 0)),
    ("https://s.example/?e=jane%40example.com&x=1", ("https://s.example/?e=[redacted email]&x=1", 1, 0)),
    ("https://s.example/?e=jane%2540example.com", ("https://s.example/?e=[redacted email]", 1, 0)),
    ("https://s.example/?p=%2B1%20650%20555%201212", ("https://s.example/?p=[redacted phone]", 0, 1)),
    ("https://s.example/?p=+16505551212&q=1", ("https://s.example/?p=[redacted phone]&q=1", 0, 1)),
    ("+16505551212", (PHONE_MARK, 0, 1)),
    ("+44 20 7946 0958", (PHONE_MARK, 0, 1)),
    ("call (650) 555-1212 now", ("call [redacted phone] now", 0, 1)),
    ("650-555-1212", (PHONE_MARK, 0, 1)),
    ("650.555.1212", (PHONE_MARK, 0, 1)),
    ("650 - 555 - 1212", (PHONE_MARK, 0, 1)),
    ("1 650 555 1212", (PHONE_MARK, 0, 1)),
    ("06 12 34 56 78", (PHONE_MARK, 0, 1)),
    ("tel:+1 (650) 555-1212.", ("tel:[redacted phone].", 0, 1)),
    ("a@b.io or 650-555-1212", (f"{EMAIL_MARK} or {PHONE_MARK}", 1, 1)),
])
def test_emails_and_phone_shaped_numbers_are_found(text, expected):
    assert find_contacts(text) == expected
    assert may_hold_contact(text)


@pytest.mark.parametrize("text", [
    "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f",  # a SHA-256
    "1777636803", "1777636803000", "1234567890123456",  # Unix times, pixel ids: bare digits
    "6505551212", "16505551212",  # a phone as bare digits cannot be told from an id
    "12.99", "1,234.56", "1 234 567", "1.234.567",  # prices and thousands
    "2026-05-01T12:00:03Z", "2026-05-01 12:00:03", "01/05/2026", "01.05.2026", "2026-05-01",
    "10.0.0.1", "192.168.100.200",  # IPv4
    "fb.1.1714564800000.AbCdEfGh", "550e8400-e29b-41d4-a716-446655440000",
    "12345678-1234-1234-1234-123456789012", "order-650-555-1212", "evt_650-555-1212",
    "+1000000", "sizes 10 12 14 16 18 20 22",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko)",
    "Zebulon Quixley", "user@localhost", "@handle",  # a name alone is not detectable
])
def test_ids_hashes_times_prices_and_names_are_not_taken_for_contacts(text):
    assert find_contacts(text) == (text, 0, 0)
    assert not may_hold_contact(text) or "@" in text


def planted_lines() -> list[dict]:
    url = (f"https://shop.example/thanks?email={quote(EMAILS[0], safe='')}"
           f"&phone={quote(PHONES[0], safe='')}&utm_source=mail")
    meta = {
        "platform": "meta", "channel": "server", "pixel_id": "1234567890", "sent_at": SENT_AT,
        "http_status": 200,
        "request": {"data": [{
            "event_name": "Purchase", "event_time": EVENT_TIME, "event_id": "planted-1",
            "action_source": "website", "event_source_url": url,
            "user_data": {"em": [HASH], "EM": EMAILS[1], "external_id": PHONES[1],
                          "client_ip_address": "203.0.113.9"},
            "custom_data": {"value": 42.5, "currency": "USD", "order_id": "planted-1",
                            "note": f"gift for {EMAILS[2]}"},
            "shipping_contact": {"reachable_at": PHONES[2]},  # a field no platform defines
        }]},
        "response": {"events_received": 1, "messages": [f"user {EMAILS[3]} matched"]},
    }
    tiktok = {
        "platform": "tiktok", "channel": "server", "sent_at": SENT_AT, "http_status": 200,
        "request": {"event_source": "web", "event_source_id": "CPLANTED", "data": [{
            "event": "CompletePayment", "event_time": EVENT_TIME, "event_id": "planted-2",
            "user": {"email": HASH},
            "context": {"user": {"email": EMAILS[4], "phone_number": PHONES[3]}},
            "properties": {"value": 10, "currency": "USD", "order_id": "planted-2"},
        }]},
        "response": {"code": 0, "message": "OK"},
    }
    snap = {
        "platform": "snap", "channel": "server", "sent_at": SENT_AT, "http_status": 200,
        "request": {"data": [{
            "event_name": "PURCHASE", "event_time": EVENT_TIME, "event_id": "planted-3",
            "action_source": "WEB", "user_data": {"em": [HASH]},
            "custom_data": {"value": 5, "currency": "USD", "order_id": "planted-3",
                            "contents": [{"title": f"call {PHONES[4]}"}]},
        }]},
        "response": {"status": "VALID", "reason": f"sent to {EMAILS[5]} and {PHONES[5]}"},
    }
    # a must-hash key in plaintext (the rule before this test), to be named beside the places
    snap_plain = json.loads(json.dumps(snap))
    snap_plain["request"]["data"][0]["event_id"] = "planted-4"
    snap_plain["request"]["data"][0]["user_data"] = {"em": EMAILS[6]}
    snap_plain["request"]["data"][0]["custom_data"] = {"value": 5, "currency": "USD", "order_id": "planted-4"}
    snap_plain["response"] = {"status": "VALID"}
    return [meta, tiktok, snap, snap_plain]


def cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def audit(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pii_everywhere")
    shop_dir = root / "shop"
    generate_shop(replace(preset("healthy"), days=4, orders_per_day=8), shop_dir)
    planted = shop_dir / "planted.jsonl"
    planted.write_text("".join(json.dumps(line) + "\n" for line in planted_lines()), encoding="utf-8")
    tmp = root / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    warehouse = root / "wh" / "audit.duckdb"
    run = cli("run", "--warehouse", str(warehouse), "--orders", str(shop_dir / "orders.csv"),
              "--delivery-log", str(shop_dir / "delivery_log.jsonl.gz"), str(planted),
              "--platform-reports", str(shop_dir / "platform_reports.csv"), cwd=root, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    exports = {}
    for fmt in ("parquet", "csv"):
        exports[fmt] = root / f"export_{fmt}"
        done = cli("export", "--warehouse", str(warehouse), "--format", fmt, "--out", str(exports[fmt]),
                   cwd=root, env=env)
        assert done.returncode == 0, done.stdout + done.stderr
    return {"warehouse": warehouse, "tmp": tmp, "output": root / "output.txt", **exports,
            "stdout": _write(root / "output.txt", run.stdout + run.stderr)}


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _hits(text: str, where: str) -> list[str]:
    text = text.lower()
    return [f"{needle!r} in {where}" for needle in NEEDLES if needle in text]


def _file_text(path: Path) -> str:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if data[:4] == b"PAR1":
        return json.dumps(pq.read_table(io.BytesIO(data)).to_pylist(), default=str)
    return data.decode("utf-8", errors="replace")


def test_no_planted_value_in_any_table_or_view(audit):
    con = duckdb.connect(str(audit["warehouse"]), read_only=True)
    try:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables order by all").fetchall()
        assert ("raw", "delivery_log") in relations and ("intermediate", "int_event_pii_found") in relations
        hits = []
        for schema, name in relations:
            rows = con.execute(f'select * from "{schema}"."{name}"').fetchall()
            hits += _hits(json.dumps(rows, default=str), f"{schema}.{name}")
    finally:
        con.close()
    assert hits == []


def test_no_planted_value_in_any_file_written(audit, run_outputs):
    # dbt's target/ and logs/, GX's run folder: the project's, or this worker's (conftest.py)
    folders = [audit["warehouse"].parent, audit["parquet"], audit["csv"], audit["tmp"],
               PROJECT_DIR / "target", PROJECT_DIR / "logs", *run_outputs.values()]
    files = [p for folder in folders if folder.exists() for p in folder.rglob("*") if p.is_file()]
    # the warehouse folder holds the warehouse, dlt's working folder, GX and the report
    assert any(".dlt_pipelines" in p.parts for p in files)
    assert any(p.name == "signal_audit_report.html" for p in files)
    assert any(p.name == "run_results.json" for p in files) and any(p.name == "dbt.log" for p in files)
    assert any(p.suffix == ".html" and "data_docs" in p.parts for p in files)
    assert any(p.suffix == ".parquet" for p in files) and any(p.suffix == ".csv" for p in files)
    hits = [hit for p in files for hit in _hits(_file_text(p), str(p))]
    hits += _hits(audit["stdout"].read_text(), "the run's output")
    assert hits == []


def test_every_place_is_counted_where_it_was_found(audit):
    con = duckdb.connect(str(audit["warehouse"]), read_only=True)
    try:
        found = set(con.execute(
            "select platform, place, kind, values_found from intermediate.int_event_pii_found "
            "where event_key in (select event_key from intermediate.int_events where event_id like 'planted-%')"
        ).fetchall())
        others = con.execute(
            "select count(*) from intermediate.int_event_pii_found "
            "where event_key not in (select event_key from intermediate.int_events where event_id like 'planted-%')"
        ).fetchone()
        redacted = dict(con.execute(
            "select _source_line, redacted_values from raw.delivery_log where _source_file like '%planted.jsonl'"
        ).fetchall())
    finally:
        con.close()
    assert found == {
        ("meta", "event_source_url", "email", 1),
        ("meta", "event_source_url", "phone", 1),
        ("meta", "user_data.EM", "email", 1),
        ("meta", "user_data.external_id", "phone", 1),
        ("meta", "custom_data.note", "email", 1),
        ("meta", "shipping_contact.reachable_at", "phone", 1),
        ("meta", "response.messages", "email", 1),
        ("tiktok", "context.user.email", "email", 1),
        ("tiktok", "context.user.phone_number", "phone", 1),
        ("snap", "custom_data.contents.title", "phone", 1),
        ("snap", "response.reason", "email", 1),
        ("snap", "response.reason", "phone", 1),
    }
    assert others == (0,)  # the generated shop's own lines hold no false positive
    assert redacted == {1: 7, 2: 2, 3: 3, 4: 1}


def test_pii_hashing_counts_the_events_and_names_the_places(audit):
    con = duckdb.connect(str(audit["warehouse"]), read_only=True)
    try:
        rows = {p: (m, s, text) for p, m, s, text in con.execute(
            "select platform, metric_value, status, summary from marts.rpt_signal_scorecard "
            "where check_name = 'pii_hashing'").fetchall()}
    finally:
        con.close()
    assert rows["meta"][:2] == (1.0, "fail")
    assert rows["meta"][2] == (
        "1 server event sent customer data to Meta in plaintext: emails in custom_data.note (1), "
        "emails in event_source_url (1), emails in response.messages (1): personal data sent "
        "unprotected. Keep e-mail addresses and phone numbers out of URLs and other fields: send "
        "them only SHA-256 hashed, in the match keys.")
    assert rows["tiktok"][:2] == (1.0, "fail")
    assert "emails in context.user.email (1), phone numbers in context.user.phone_number (1)" in rows["tiktok"][2]
    # two events: one with the places, one with a must-hash key in plaintext; both named
    assert rows["snap"][:2] == (2.0, "fail")
    assert rows["snap"][2].startswith(
        "2 server events sent customer data to Snap in plaintext, mostly email (1); also ")
    assert "phone numbers in custom_data.contents.title (1)" in rows["snap"][2]
