"""No delivery-log line stops a load: every line read is loaded or rejected with a reason.

Fixed cases for each class of bad input once found to stop a load (timestamps that overflow
once their offset is applied, deep nesting, bytes that are not UTF-8, out-of-range numbers, a
bare carriage return inside a line), then a property test that feeds generated good and bad
lines through the reader and checks read = loaded + rejected.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.delivery_log import read_delivery_log
from pipelines.files import InputError, numbered_lines
from pipelines.load import run_load
from pipelines.log_sql import LogChunk
from pipelines.rejects import Rejected
from pipelines.seeds import load_platforms
from signal_audit_core.config import Config, InputsConfig

PLATFORMS = load_platforms()
HASH = "b" * 64


def line(sent_at: Any = "2026-05-01T12:00:03Z", **changes: Any) -> dict[str, Any]:
    base = {"platform": "meta", "channel": "server", "pixel_id": "1", "sent_at": sent_at,
            "http_status": 200,
            "request": {"data": [{"event_name": "Purchase", "event_time": 1777636803, "event_id": "1",
                                  "user_data": {"em": [HASH]},
                                  "custom_data": {"value": 12.5, "currency": "USD", "order_id": "1"}}]}}
    return {**base, **changes}


DEEP = "__deep__"


def nested(depth: int) -> str:
    """A placeholder for an array `depth` levels deep, put in by dumps (json.dumps recurses)."""
    return f"{DEEP}{depth}"


def read(path: Path) -> tuple[dict[int, str], list[int]]:
    """(line -> reject reason, lines loaded) of one delivery-log file, read in this process."""
    rejected: dict[int, str] = {}
    loaded: list[int] = []
    for item in read_delivery_log([path], PLATFORMS):
        if isinstance(item, Rejected):
            rejected[item.position.line] = item.reason
        else:
            assert isinstance(item, LogChunk)
            loaded += item.lines["_source_line"].to_pylist()
    return rejected, loaded


def write(path: Path, lines: list[bytes]) -> Path:
    data = b"".join(chunk + b"\n" for chunk in lines)
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
    return path


def dumps(value: Any) -> bytes:
    return deepen(json.dumps(value)).encode()


def deepen(text: str) -> str:
    """JSON text with each nested() placeholder replaced by its deep array."""
    while (start := text.find(f'"{DEEP}')) >= 0:
        end = text.index('"', start + 1)
        depth = int(text[start + 1 + len(DEEP):end])
        text = text[:start] + "[" * depth + "1" + "]" * depth + text[end + 1:]
    return text


# --- fixed cases -------------------------------------------------------------------------------

@pytest.mark.parametrize(("sent_at", "reason"), [
    ("9999-12-31T23:59:59-05:00", "sent_at '9999-12-31T23:59:59-05:00' is outside the years 1970-2099"),
    ("0001-01-01T00:30:00+01:00", "sent_at '0001-01-01T00:30:00+01:00' is outside the years 1970-2099"),
    ("1969-12-31T23:59:59Z", "sent_at '1969-12-31T23:59:59Z' is outside the years 1970-2099"),
    ("2100-01-01T00:00:00Z", "sent_at '2100-01-01T00:00:00Z' is outside the years 1970-2099"),
    ("2026-02-30T00:00:00Z", "sent_at '2026-02-30T00:00:00Z' is not a timestamp"),
    (1777636803, "sent_at '1777636803' is not a timestamp"),
])
def test_a_sent_at_out_of_range_or_not_a_timestamp_is_rejected(tmp_path: Path, sent_at, reason):
    rejected, loaded = read(write(tmp_path / "log.jsonl", [dumps(line(sent_at))]))
    assert (rejected, loaded) == ({1: reason}, [])


@pytest.mark.parametrize("sent_at", ["1970-01-01T00:00:00Z", "2099-12-31T23:59:59Z",
                                     "2099-12-31T22:59:59-01:00", "1970-01-01T01:00:00+01:00"])
def test_a_sent_at_at_the_edges_of_the_range_loads(tmp_path: Path, sent_at):
    assert read(write(tmp_path / "log.jsonl", [dumps(line(sent_at))])) == ({}, [1])


def test_any_nesting_depth_is_a_reject_or_a_row(tmp_path: Path):
    deep = lambda depth: line(request={"data": [{"event_name": "Purchase", "custom_data": {"x": nested(depth)}}]})  # noqa: E731
    lines = [dumps(deep(200)), dumps(deep(300)), dumps(deep(10_000)),
             dumps(line(response=nested(300))),
             # deep and holding an e-mail address: too deep to walk, rejected before the walk
             dumps(line(request={"data": [{"note": "x@example.com", "deep": nested(1_000)}]}))]
    rejected, loaded = read(write(tmp_path / "log.jsonl", lines))
    assert loaded == [1]
    assert rejected == {2: "JSON nested too deeply (more than 254 levels)",
                        3: "malformed JSON: depth limit exceeded",
                        4: "JSON nested too deeply (more than 254 levels)",
                        5: "JSON nested too deeply (more than 254 levels)"}


def test_bytes_that_are_not_utf8_reject_their_line_only(tmp_path: Path):
    good = dumps(line())
    lines = [b"\xff\xfe\x00garbage", good[:-2] + b"\xc3\x28" + good[-2:], b"\x00\x01\x02", good,
             "\ufeff".encode() + good]
    rejected, loaded = read(write(tmp_path / "log.jsonl.gz", lines))
    assert rejected == {1: "not UTF-8 text", 2: "not UTF-8 text",
                        3: "malformed JSON: unexpected character, expected a JSON value",
                        # a byte-order mark only counts at the start of the file
                        5: "malformed JSON: UTF-8 byte order mark (BOM) is not supported"}
    assert loaded == [4]


@pytest.mark.parametrize(("text", "reason"), [
    ('"http_status": 1e400', "malformed JSON: number is infinity when parsed as double"),
    ('"http_status": 99999999999999999999999', "http_status '1e+23' is not an HTTP status code"),
    ('"http_status": -1', "http_status '-1' is not an HTTP status code"),
    ('"http_status": 200.0', "http_status '200.0' is not an HTTP status code"),
    ('"pixel_id": 1e308', "pixel_id is not a string"),
])
def test_out_of_range_numbers_are_rejected_with_the_field(tmp_path: Path, text, reason):
    base = json.dumps(line(http_status=None))
    bad = base.replace('"http_status": null', text) if "http_status" in text else base.replace('"pixel_id": "1"', text)
    assert read(write(tmp_path / "log.jsonl", [bad.encode()])) == ({1: reason}, [])


def test_huge_numbers_inside_the_request_load_as_sent(tmp_path: Path):
    big = line(request={"data": [{"event_name": "Purchase", "event_time": 10**30,
                                  "custom_data": {"value": 1.7e308, "order_id": 2**70}}]})
    assert read(write(tmp_path / "log.jsonl", [dumps(big)])) == ({}, [1])


def test_a_bare_carriage_return_inside_a_line_does_not_split_it(tmp_path: Path):
    first = json.dumps(line()).replace(', "channel"', ',\r"channel"').replace(": 200", ":\r200")
    second = json.dumps(line(pixel_id="2"))
    # CRLF endings, a CR inside the first line, then a line after it keeps its number
    path = tmp_path / "log.jsonl"
    path.write_bytes(first.encode() + b"\r\n" + second.encode() + b"\r\n\r\n")
    assert read(path) == ({}, [1, 2])


def test_orders_jsonl_lines_end_at_newline_only_and_name_a_line_that_is_not_utf8(tmp_path: Path):
    path = tmp_path / "orders.jsonl"
    path.write_bytes("\ufeff".encode() + b'{"a":\r1}\r\n\r\n{"b": 2}\n' + b"\xff\n")
    lines = numbered_lines(path)
    assert [next(lines), next(lines), next(lines)] == [(1, '{"a":\r1}'), (2, ""), (3, '{"b": 2}')]
    with pytest.raises(InputError, match=r"orders.jsonl is not UTF-8 text \(line 4\)"):
        next(lines)


def test_a_load_of_every_bad_line_at_once_counts_each_and_loads_the_good_ones(tmp_path: Path):
    cr_line = json.dumps(line(pixel_id="cr")).replace(', "sent_at"', ',\r"sent_at"').encode()
    lines = [dumps(line("9999-12-31T23:59:59-05:00")), dumps(line("0001-01-01T00:30:00+01:00")),
             dumps(line(request={"data": [nested(300)]})), b"\xff\xfe", cr_line,
             dumps(line(pixel_id="after the CR")), b"", dumps(line(http_status=10**30))]
    log = write(tmp_path / "log.jsonl", lines)
    report = run_load(Config(warehouse=tmp_path / "w" / "audit.duckdb",
                             inputs=InputsConfig(delivery_log=(str(log),))))
    counts = report.counts["delivery_log"]
    assert (counts.read, counts.loaded, counts.rejected) == (7, 2, 5)
    con = duckdb.connect(str(tmp_path / "w" / "audit.duckdb"), read_only=True)
    try:
        rows = con.execute("select _source_line, pixel_id from raw.delivery_log order by 1").fetchall()
        reasons = con.execute("select source_line, reason from raw.rejected_rows order by 1").fetchall()
    finally:
        con.close()
    assert rows == [(5, "cr"), (6, "after the CR")]
    assert [line for line, _ in reasons] == [1, 2, 3, 4, 8]
    assert all(reason for _, reason in reasons)


# --- generated lines ---------------------------------------------------------------------------

timestamps = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.builds(lambda d, h, m: f"{d.isoformat()}{'+' if h >= 0 else '-'}{abs(h):02d}:{m:02d}",
              st.datetimes(), st.integers(-23, 23), st.integers(0, 59)),
    st.sampled_from(["9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00", "2026-05-01", "",
                     "2026-05-01T12:00:03Z", "tomorrow"]),
    st.integers(), st.floats(), st.none(),
)
numbers = st.one_of(st.integers(min_value=-(10**40), max_value=10**40),
                    st.floats(allow_nan=False, allow_infinity=False))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), numbers, st.text(max_size=30)),
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(st.text(max_size=10), children, max_size=4)),
    max_leaves=20,
)


@st.composite
def good_or_bad_line(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "line", "deep", "cr", "value"]))
    if kind == "bytes":
        return draw(st.binary(max_size=80)).replace(b"\n", b"")
    base = line(draw(timestamps))
    if kind == "deep":
        base["request"]["data"][0]["custom_data"]["deep"] = nested(draw(st.integers(0, 1_200)))
    elif kind == "value":
        field = draw(st.sampled_from(["platform", "channel", "pixel_id", "http_status", "request", "response"]))
        base[field] = draw(json_values)
    elif kind == "line":
        base["request"]["data"][0]["custom_data"]["extra"] = draw(json_values)
    text = deepen(json.dumps(base, ensure_ascii=draw(st.booleans())))
    if kind == "cr":
        text = text.replace(", ", ",\r").replace(": ", ":\r ")
    return text.encode("utf-8", errors="surrogatepass")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(good_or_bad_line(), min_size=1, max_size=12), st.booleans())
def test_every_generated_line_is_loaded_or_rejected_with_a_reason(lines: list[bytes], gzipped: bool):
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / ("log.jsonl.gz" if gzipped else "log.jsonl"), lines)
        rejected, loaded = read(path)
    expected = set()
    for number, data in enumerate(lines, start=1):
        try:
            blank = not data.decode("utf-8").strip()
        except UnicodeDecodeError:
            blank = False
        if not blank:
            expected.add(number)
    # read = loaded + rejected: each line once, in one of them
    assert sorted([*rejected, *loaded]) == sorted(expected)
    assert all(reason.strip() for reason in rejected.values())


def test_a_must_hash_key_in_another_case_is_redacted_even_when_no_pattern_sees_pii(tmp_path: Path):
    """A name is no pattern's match: only the key (Meta's `fn`, `ln`, written `FN`, `Ln`) says it
    must be hashed, so its plaintext is redacted and counted as plaintext found there."""
    sent = line(request={"data": [{"event_name": "Purchase", "event_time": 1777636803, "event_id": "1",
                                   "user_data": {"em": [HASH], "FN": "jeanne", "Ln": ["Dupontel"]}}]})
    chunks = [c for c in read_delivery_log([write(tmp_path / "log.jsonl", [dumps(sent)])], PLATFORMS)
              if isinstance(c, LogChunk)]
    request = chunks[0].lines["request"][0].as_py()
    found = {(row["place"], row["kind"], row["values_found"]) for row in chunks[0].pii.to_pylist()}
    assert "jeanne" not in request and "Dupontel" not in request
    assert found == {("user_data.FN", "plaintext", 1), ("user_data.Ln", "plaintext", 1)}
