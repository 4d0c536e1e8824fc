"""The delivery log's fast path (DuckDB judges a line clean and flattens it) lands exactly what
the reference path (every line through parse_line, then the same SQL) lands, and never a
plaintext the Python path would redact."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.log_sql import LogChunk, LogReader
from pipelines.rejects import Rejected
from pipelines.seeds import load_platforms, log_fields, match_keys

PLATFORMS = load_platforms()
HASH = "a" * 64


def read(path: Path, fast: bool) -> tuple[dict[str, list[dict[str, Any]]], list[tuple[int, str]], int]:
    """(table -> rows, rejects, lines the SQL judged clean) of one file."""
    tables: dict[str, list[pa.Table]] = {"lines": [], "events": [], "pii": []}
    rejects = []
    with LogReader(PLATFORMS, log_fields(), match_keys(), fast=fast) as reader:
        for item in reader.read([path]):
            if isinstance(item, Rejected):
                rejects.append((item.position.line, item.reason))
            else:
                assert isinstance(item, LogChunk)
                tables["lines"].append(item.lines)
                tables["events"].append(item.events)
                tables["pii"].append(item.pii)
        clean = reader.con.execute("select count(*) from chunk where clean").fetchone()[0] if tables["lines"] else 0
    rows = {name: pa.concat_tables(parts).to_pylist() if parts else [] for name, parts in tables.items()}
    return rows, rejects, clean


def line(**changes: Any) -> dict[str, Any]:
    base = {"platform": "meta", "channel": "server", "pixel_id": "1", "sent_at": "2026-05-01T12:00:03Z",
            "http_status": 200,
            "request": {"data": [{"event_name": "Purchase", "event_time": 1777636803, "event_id": "1",
                                  "event_source_url": "https://shop.example/thanks",
                                  "user_data": {"em": [HASH], "client_ip_address": "203.0.113.45"},
                                  "custom_data": {"value": 12.5, "currency": "USD", "order_id": "1"}}]}}
    return {**base, **changes}


def both(lines: list[str]) -> tuple[Any, Any, int]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "log.jsonl"
        path.write_text("".join(text + "\n" for text in lines), encoding="utf-8")
        fast, fast_rejects, clean = read(path, fast=True)
        reference, reference_rejects, _ = read(path, fast=False)
    return (fast, fast_rejects), (reference, reference_rejects), clean


def test_a_plain_line_takes_the_fast_path_and_lands_what_the_reference_lands():
    fast, reference, clean = both([json.dumps(line()), json.dumps(line(pixel_id=7, http_status=None))])
    assert clean == 2
    assert fast == reference
    event = fast[0]["events"][0]
    assert (event["key_email"], event["key_ip_address"], event["value_raw"], event["value_json_type"]) == (
        HASH, "203.0.113.45", "12.5", "DOUBLE")


def test_plaintext_in_a_must_hash_key_or_an_email_in_a_url_never_lands():
    lines = [
        line(request={"data": [{"event_name": "Purchase", "user_data": {"em": "john@example.com"}}]}),
        line(request={"data": [{"event_name": "Purchase", "user_data": {"EM": ["jeanne"], "ph": 6505551212}}]}),
        line(request={"data": [{"event_name": "Purchase",
                                "event_source_url": "https://shop.example/?e=john%40example.com"}]}),
        line(request={"data": [{"event_name": "Purchase", "custom_data": {"note": "call +1 650 555 1212"}}]}),
    ]
    fast, reference, clean = both([json.dumps(x) for x in lines])
    assert clean == 0  # none of them is judged clean in SQL
    assert fast == reference
    landed = json.dumps(fast[0], default=str)
    for plaintext in ("john@example.com", "john%40example.com", "jeanne", "6505551212", "650 555 1212"):
        assert plaintext not in landed
    kinds = {(row["_source_line"], row["place"], row["kind"]) for row in fast[0]["pii"]}
    assert (3, "event_source_url", "email") in kinds and (2, "user_data.EM", "plaintext") in kinds


texts = st.one_of(st.text(max_size=20), st.sampled_from([
    "john@example.com", "+1 650 555 1212", "(650) 555-1212", "650-555-1212", "203.0.113.45", "a%40b.com",
    "fb.1.1787465241463.1458011130", "512ff74e-6577-1398-231f-c1370c88b61d", HASH, "", "x\\y", "NaN",
    "2026-05-01T12:00:03Z", "06 12 34 56 78"]))
scalars = st.one_of(st.none(), st.booleans(), st.integers(-(10**20), 10**20),
                    st.floats(allow_nan=False, allow_infinity=False), texts)
values = st.recursive(scalars, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(st.one_of(texts, st.sampled_from(["em", "EM", "ph"])),
                                                    children, max_size=3)), max_leaves=12)


@st.composite
def generated_line(draw: st.DrawFn) -> str:
    base = line(platform=draw(st.sampled_from(["meta", "tiktok", "snap", " Meta ", "x"])),
                channel=draw(st.sampled_from(["server", "browser", "BROWSER", "web"])),
                sent_at=draw(st.sampled_from(["2026-05-01T12:00:03Z", "2026-05-01T12:00:03.5+02:00",
                                              "2026-05-01 12:00:03", "1969-12-31T23:59:59Z",
                                              "2099-12-31T23:59:59Z", "2026-02-30T00:00:00Z"])),
                pixel_id=draw(st.one_of(st.none(), st.integers(0, 10**19), texts)),
                http_status=draw(st.one_of(st.none(), st.integers(0, 700))))
    event = base["request"]["data"][0]
    user_object = {"meta": "user_data", "snap": "user_data", "tiktok": "user"}.get(base["platform"], "user_data")
    event[user_object] = draw(st.dictionaries(st.sampled_from(["em", "ph", "fn", "email", "phone", "ip", "EM",
                                                                "client_ip_address", "external_id"]),
                                              st.one_of(st.sampled_from([HASH, None, ""]), values), max_size=4))
    event["custom_data"] = {"value": draw(scalars), "note": draw(values)}
    if draw(st.booleans()):
        base["response"] = draw(values)
    return json.dumps(base, ensure_ascii=draw(st.booleans()), separators=draw(st.sampled_from([None, (",", ":")])))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(generated_line(), min_size=1, max_size=6))
def test_the_fast_path_lands_what_the_reference_path_lands(lines: list[str]):
    fast, reference, _ = both(lines)
    assert fast == reference
