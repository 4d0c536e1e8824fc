"""Delivery-log lines read, validated and flattened by DuckDB; Python parses only the lines that
must be rejected or redacted (pipelines/log_lines.py).

Python only splits each file into numbered lines. An in-memory DuckDB hashes every line (its
record_id) and judges it with a conservative `clean` predicate: a line that is certainly valid
and holds nothing to redact. Every other line goes through parse_line, which rejects it with a
reason or gives its redacted fields. Both kinds of line then pass through the same SQL, which
writes the JSON compactly and flattens each event of `request.data` into typed columns, with
the JSON paths of seeds/delivery_log_fields.csv and one `key_<match_key>` column per match key
of seeds/match_keys.csv. There is one PII detection (signal_audit_core.pii): the SQL only picks
the lines Python must look at, with patterns that match wherever pii's would
(pii.CONTACT_HINT, pii.PHONE_HINT; tests/python/test_log_fast_path.py holds the two paths
equal).

This module imports no dlt: tests and benchmarks read files with it directly.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from pipelines.files import BOM, InputError, is_gzip
from pipelines.log_lines import EARLIEST, LATEST, parse_line
from pipelines.rejects import Position, Rejected
from pipelines.seeds import LogField, Platform
from signal_audit_core import pii

# Lines judged and flattened per DuckDB query: memory stays bounded however large a file is.
CHUNK_LINES = 50_000
# A line's place in a chunk: its file's index times FILE plus its line number.
FILE = 2**32
# A line with more brackets than this may be nested deeper than orjson writes (254 levels):
# Python judges it.
MAX_BRACKETS = 200
# An IP address as a whole string is never a phone number (pii._is_phone), and most events
# carry one: such strings are left out before pii.PHONE_HINT is looked for.
IPV4_STRING = r'"[0-9]{1,3}(\.[0-9]{1,3}){3}"'
# Text that orjson refuses or reads differently from DuckDB: control characters (raw tabs and
# CRs too), a byte-order mark, NaN and infinities, trailing commas.
NOT_PLAIN_JSON = r"[\x00-\x1f\x7f\x{feff}]|[:,\[]\s*[-+]?(?i:nan|inf)|,\s*[\]}]"
# one pass over the line for both
NOT_PLAIN_OR_CONTACT = f"{NOT_PLAIN_JSON}|{pii.CONTACT_HINT}"
_ISO = (r"[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
        r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])")


@dataclass(frozen=True)
class LogChunk:
    """What a chunk of lines (of one or more files) lands: raw.delivery_log, raw.delivery_events and
    raw.delivery_event_pii rows (Arrow tables in line order), and how many lines an earlier load
    already landed where they are (counted as loaded, not landed twice)."""

    lines: pa.Table
    events: pa.Table
    pii: pa.Table
    already_loaded: int


class LogReader:
    """Reads delivery-log files one after another; the first copy of a repeated line wins,
    within the files read and against `loaded` (raw.delivery_log of the warehouse, read-only).

    Close it before dlt opens the warehouse: DuckDB allows one writer per file.
    """

    def __init__(
        self, platforms: Mapping[str, Platform], fields: Sequence[LogField], keys: Sequence[str],
        warehouse: Path | None = None, fast: bool = True, landed: Landed | None = None,
    ) -> None:
        """`fast=False` sends every line through parse_line: the reference the fast path is
        tested against. What earlier loads landed comes from `warehouse` (a DuckDB file,
        attached read-only) or, on another engine, from `landed`: given record ids, the
        (record_id, _source_file, _source_line) of those already in raw.delivery_log."""
        self.platforms = platforms
        # the same memory limit as the loads' and dbt's DuckDB (pipelines/load.py)
        self.con = duckdb.connect(config={
            "preserve_insertion_order": True,
            "memory_limit": os.environ.get("SIGNAL_AUDIT_DUCKDB_MEMORY", "1GB"),
        })
        self.con.execute("create temp table seen (h uhugeint, line bigint)")
        self.con.execute("create temp table file_names (file bigint, path varchar)")
        self.files: list[str] = []
        self._clean = _clean_predicate(platforms) if fast else "false"
        self._fields = fields
        self._keys = keys
        self._history = warehouse is not None and _attach(self.con, warehouse)
        self._landed = landed

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> LogReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, paths: Sequence[Path]) -> Iterator[LogChunk | Rejected]:
        """The files' rows and rejects, in file order. Lines of several small files are judged
        in one query (DuckDB runs a query on many rows in parallel); a line's place in it,
        `line`, is its file's index times 2**32 plus its line number."""
        numbers: list[int] = []
        texts: list[str] = []
        for path in paths:
            file = str(path)
            index = len(self.files)
            self.files.append(file)
            self.con.execute("insert into file_names values (?, ?)", [index, file])
            for number, text in _numbered_texts(path):
                if text is None:
                    yield Rejected(Position(file, number), "not UTF-8 text")
                    continue
                if not text:
                    continue
                numbers.append(index * FILE + number)
                texts.append(text)
                if len(texts) == CHUNK_LINES:
                    yield from self._chunk(numbers, texts)
                    numbers, texts = [], []
        if texts:
            yield from self._chunk(numbers, texts)

    def _position(self, place: int) -> Position:
        return Position(self.files[place // FILE], place % FILE)

    def _chunk(self, numbers: list[int], texts: list[str]) -> Iterator[LogChunk | Rejected]:
        con = self.con
        con.register("input_lines", pa.table({"line": pa.array(numbers, pa.int64()),
                                              "text": pa.array(texts, pa.string())}))
        # Judging a line parses it four times, each call reading every path it needs at once:
        # the JSON types of the top-level fields (`t`, null when the line is not JSON), their
        # values (`top`: texts, and the request and response written compactly), the keys of
        # the line and of its request, and the keys of each event. Each step is a subquery,
        # computed once however often the next one uses it (a table for each step would copy
        # every line). Only what later steps read is stored: a clean line's landed fields, the
        # text of the others for Python.
        con.execute(f"""
            create or replace temp table chunk as
            select line, record_id, clean,
                   case when not clean then text end as text,
                   case when clean then lower(trim(top.platform)) end as platform,
                   case when clean then lower(trim(top.channel)) end as channel,
                   case when clean then top.pixel_id end as pixel_id,
                   case when clean then cast(top.sent_at as timestamptz) end as sent_at,
                   case when clean then cast(top.http_status as integer) end as http_status,
                   case when clean then request_json end as request,
                   case when clean then response_json end as response
            from (
                select *, coalesce({self._clean}, false) as clean
                from (
                    select *,
                           case when {_t('$.request')} = 'OBJECT' then top.request end as request_json,
                           case when coalesce({_t('$.response')}, 'NULL') <> 'NULL' then top.response end
                               as response_json,
                           case when t is not null then json_keys(text, ['$', '$.request']) end as keys,
                           case when t is not null then json_keys(text, '$.request.data[*]') end as event_keys
                    from (
                        select *, case when t is not null then from_json(text, '{_TOP_VALUES}') end as top
                        from (
                            select line, text, sha256(text) as record_id, try(json_type(text, [{_TOP_PATHS}])) as t
                            from input_lines
                        ) as typed
                    ) as valued
                ) as keyed
            ) as judged""")
        con.unregister("input_lines")

        parsed: list[tuple[Any, ...]] = []
        findings: list[tuple[int, int, str, str, int]] = []
        rejected: dict[int, str] = {}
        for number, text in con.execute("select line, text from chunk where not clean order by line").fetchall():
            fields = parse_line(text, self.platforms)
            if isinstance(fields, str):
                rejected[number] = fields
                continue
            *row, found = fields
            parsed.append((number, *row))
            findings += [(number, *finding) for finding in found]
        con.register("python_lines", pa.table(
            list(zip(*parsed, strict=True)) if parsed else [[]] * len(_PYTHON_LINES), schema=_PYTHON_LINES))
        con.register("python_findings", pa.table(
            list(zip(*findings, strict=True)) if findings else [[]] * len(_FINDINGS), schema=_FINDINGS))
        # views: the landed lines are stored once (in chunk, or redacted for Python's), and
        # each query below reads only the columns it needs of them
        con.execute(f"""
            create or replace temp table redacted as {_REDACTED_LINES};
            create or replace temp view parsed as {_CLEAN_LINES} union all select * from redacted""")
        duplicates, already = self._first_copies()
        con.execute(f"""
            create or replace temp view kept as
            select * from parsed where line not in (select line from duplicates)
            {"and line not in (select line from already)" if already else ""}""")
        for number, reason in duplicates:
            rejected[number] = reason
        for number in sorted(rejected):
            yield Rejected(self._position(number), rejected[number])

        lines = con.sql(f"""
            select record_id, platform, channel, pixel_id, sent_at, http_status, request, response,
                   redacted_values, file_names.path as _source_file, line % {FILE} as _source_line
            from kept inner join file_names on kept.line // {FILE} = file_names.file
            order by line""").to_arrow_table()
        events = con.sql(events_sql(self.platforms, self._fields, self._keys)).to_arrow_table()
        found = con.sql(f"""
            select kept.record_id, f.event_index, f.place, f.kind, f.values_found,
                   file_names.path as _source_file, f.line % {FILE} as _source_line
            from python_findings as f inner join kept on f.line = kept.line
            inner join file_names on f.line // {FILE} = file_names.file
            order by f.line, f.event_index, f.place, f.kind""").to_arrow_table()
        con.unregister("python_lines")
        con.unregister("python_findings")
        yield LogChunk(lines, events, found, len(already))

    def _first_copies(self) -> tuple[list[tuple[int, str]], list[int]]:
        """(line, reason) of the lines in `parsed` that repeat an earlier line, and the lines
        an earlier load landed from this very place; the others are remembered in `seen`."""
        con = self.con
        con.execute("""
            create or replace temp table ranked as
            select line, record_id, cast('0x' || record_id[1:32] as uhugeint) as h,
                   row_number() over (partition by record_id order by line) as copy,
                   min(line) over (partition by record_id) as first_line
            from parsed""")
        already: list[int] = []
        earlier: list[tuple[int, str]] = []
        landed = "history.raw.delivery_log"
        if self._landed is not None:
            ids = [record_id for (record_id,) in con.execute("select distinct record_id from ranked").fetchall()]
            found = list(self._landed(ids)) if ids else []
            con.register("landed_lines", pa.table(
                list(zip(*found, strict=True)) if found else [[]] * len(_LANDED), schema=_LANDED))
            landed = "landed_lines"
        if self._history or self._landed is not None:
            for number, old_file, old_line in con.execute(f"""
                    select ranked.line, old._source_file, old._source_line
                    from ranked inner join {landed} as old on ranked.record_id = old.record_id
                    qualify row_number() over (partition by ranked.line order by old._source_file, old._source_line) = 1
                    """).fetchall():
                if self._position(number) == Position(old_file, old_line):
                    already.append(number)
                else:
                    earlier.append((number, f"duplicate of {old_file}:{old_line}"))
        if self._landed is not None:
            con.unregister("landed_lines")
        con.execute("create or replace temp table already as select unnest(?) as line", [already])
        con.execute("create or replace temp table earlier_loads as select unnest(?) as line", [[n for n, _ in earlier]])
        duplicates = dict(earlier)
        for number, seen_line in con.execute("""
                select ranked.line, seen.line from ranked inner join seen on ranked.h = seen.h
                where ranked.line not in (select line from earlier_loads)""").fetchall():
            duplicates[number] = f"duplicate of {self._position(seen_line)}"
        for number, first_line in con.execute(
                "select line, first_line from ranked where copy > 1").fetchall():
            duplicates.setdefault(number, f"duplicate of {self._position(first_line)}")
        con.execute("create or replace temp table duplicates as select unnest(?) as line", [list(duplicates)])
        # what an earlier load landed counts as a first copy too: a repeat of it later in this
        # load is a duplicate of it
        con.execute("""
            insert into seen
            select h, line from ranked
            where copy = 1 and line not in (select line from duplicates)""")
        return sorted(duplicates.items()), already


def events_sql(platforms: Mapping[str, Platform], fields: Sequence[LogField], keys: Sequence[str]) -> str:
    """One row per event of `request.data` of the `kept` lines, with every typed column of
    delivery_log_fields (null where the platform has none) and a key_<match_key> column each."""
    columns = list(dict.fromkeys(field.column for field in fields))
    parts = []
    for name, platform in sorted(platforms.items()):
        mine = {field.column: field for field in fields if field.platform == name}
        native = dict(platform.native_keys)
        # every path of a document read in one call per kind: DuckDB parses it once for all
        paths: dict[tuple[str, str], list[str]] = {}

        def read(part: str, kind: str, json_path: str, paths: dict[tuple[str, str], list[str]] = paths) -> str:
            listed = paths.setdefault((part, kind), [])
            listed.append(_literal(json_path))
            return f"{part}_{kind}[{len(listed)}]"

        selected = []
        for column in columns:
            field = mine.get(column)
            expr = "cast(null as varchar)" if field is None else read(field.part, field.kind, field.json_path)
            selected.append(f"{expr} as {column}")
        for key in keys:
            if key in native:
                # the first item when the key holds a list (as Meta's SDK sends), else its value
                where = f'$."{platform.user_object}"."{native[key]}"'
                kind = read("event", "json_type", where)
                first, value = read("event", "text", where + "[0]"), read("event", "text", where)
                expr = f"case when {kind} = 'ARRAY' then {first} else {value} end"
            else:
                expr = "cast(null as varchar)"
            selected.append(f"{expr} as key_{key}")
        function = {"text": "json_extract_string", "json_type": "json_type"}
        lists = {part: [f"{function[kind]}({part}, [{', '.join(listed)}]) as {part}_{kind}"
                        for (of, kind), listed in paths.items() if of == part]
                 for part in ("event", "request", "response")}
        # the request's and response's fields are read once per line, before its events are
        # unnested; each event is read once per kind
        line_lists = lists["request"] + lists["response"]
        carried = "".join(f", {part}_{kind}" for (part, kind) in paths if part != "event")
        parts.append(f"""
            select record_id, event_index, platform, channel, pixel_id, sent_at, http_status,
                   {', '.join(selected)}, line
            from (
                select *, {', '.join(lists["event"]) if lists["event"] else '1 as nothing'}
                from (
                    select {_EVENT_LINE}{carried},
                           unnest(events) as event, generate_subscripts(events, 1) - 1 as event_index
                    from (select {_EVENT_LINE}, {''.join(f'{x}, ' for x in line_lists)}
                                 json_extract(request, '$.data[*]') as events
                          from kept where platform = {_literal(name)}) as lines
                ) as exploded
            ) as extracted""")
    return f"""
        select record_id, event_index, platform, channel, pixel_id, sent_at, http_status,
               {', '.join(columns)}, {', '.join(f'key_{key}' for key in keys)},
               file_names.path as _source_file, line % {FILE} as _source_line
        from ({' union all '.join(parts)}) as events
        inner join file_names on events.line // {FILE} = file_names.file
        order by line, event_index"""


# Given record ids, the (record_id, _source_file, _source_line) of those an earlier load landed.
Landed = Callable[[Sequence[str]], Iterable[tuple[str, str, int]]]
_LANDED = pa.schema([("record_id", pa.string()), ("_source_file", pa.string()), ("_source_line", pa.int64())])

# what an event row carries of its line
_EVENT_LINE = "record_id, line, platform, channel, pixel_id, sent_at, http_status"

_PYTHON_LINES = pa.schema([
    ("line", pa.int64()), ("platform", pa.string()), ("channel", pa.string()), ("pixel_id", pa.string()),
    ("sent_at", pa.timestamp("us", tz="UTC")), ("http_status", pa.int32()), ("request", pa.string()),
    ("response", pa.string()), ("redacted_values", pa.int32()),
])
_FINDINGS = pa.schema([("line", pa.int64()), ("event_index", pa.int32()), ("place", pa.string()),
                       ("kind", pa.string()), ("values_found", pa.int32())])

# Both kinds of line leave DuckDB written by DuckDB: one way to write numbers, however the
# line or orjson wrote them. A clean line's request and response were written by from_json
# (JSON written by DuckDB reads and writes back unchanged); Python's are written here by json().
_CLEAN_LINES = """
    select line, record_id, platform, channel, pixel_id, sent_at, http_status, request, response,
           0 as redacted_values
    from chunk where clean"""
_REDACTED_LINES = """
    select p.line, chunk.record_id, p.platform, p.channel, p.pixel_id, p.sent_at, p.http_status,
           json(p.request) as request, json(p.response) as response, p.redacted_values
    from python_lines as p inner join chunk on p.line = chunk.line"""


# The fields of a line's top level that parse_line checks: their JSON types read in one parse
# (`t`, SQL lists count from 1), their values in another (`top`: the texts of the scalars as
# json_extract_string reads them, the request and response as JSON).
_TOP = ("$.platform", "$.channel", "$.pixel_id", "$.sent_at", "$.http_status", "$.request",
        "$.request.data", "$.response")
_TOP_PATHS = ", ".join(f"'{path}'" for path in _TOP)
_TEXTS = ("$.platform", "$.channel", "$.pixel_id", "$.sent_at", "$.http_status")
_TOP_VALUES = json.dumps({**{path.removeprefix("$."): "VARCHAR" for path in _TEXTS},
                          "request": "JSON", "response": "JSON"})


def _t(path: str) -> str:
    return f"t[{_TOP.index(path) + 1}]"


def _s(path: str) -> str:
    if path not in _TEXTS:
        raise ValueError(f"{path} is not read as text")
    return f"top.{path.removeprefix('$.')}"


def _clean_predicate(platforms: Mapping[str, Platform]) -> str:
    """SQL true for a line (an object) that parse_line would load unchanged: every check
    parse_line makes, passed in the plainest way, and nothing it would redact."""
    must_hash = sorted({key for platform in platforms.values() for key in platform.must_hash})
    known = ", ".join(_literal(name) for name in sorted(platforms))
    sent_at = f"try_cast({_s('$.sent_at')} as timestamptz)"
    # what would land of the request, the response and the pixel id
    landing = (f"coalesce(cast(request_json as varchar), '') || ' ' || coalesce(cast(response_json as varchar), '') "
               f"|| ' \"' || coalesce({_s('$.pixel_id')}, '') || '\"'")
    phones = (f"not regexp_matches(regexp_replace({landing}, {_literal(IPV4_STRING)}, '\"\"', 'g'), "
              f"{_literal(pii.PHONE_HINT)})")
    return f"""(
        len(keys[1]) = len(list_distinct(keys[1]))
        and {_t('$.platform')} = 'VARCHAR'
        and regexp_full_match({_s('$.platform')}, '[ a-z0-9_A-Z]+')
        and lower(trim({_s('$.platform')})) in ({known})
        and {_t('$.channel')} = 'VARCHAR'
        and regexp_full_match({_s('$.channel')}, ' *(server|browser|SERVER|BROWSER) *')
        and coalesce({_t('$.pixel_id')}, 'NULL') in ('NULL', 'VARCHAR', 'BIGINT', 'UBIGINT')
        and {_t('$.sent_at')} = 'VARCHAR'
        and regexp_full_match({_s('$.sent_at')}, '{_ISO}')
        and {sent_at} >= cast('{EARLIEST.isoformat()}' as timestamptz)
        and {sent_at} < cast('{LATEST.isoformat()}' as timestamptz)
        and (coalesce({_t('$.http_status')}, 'NULL') = 'NULL'
             or ({_t('$.http_status')} in ('BIGINT', 'UBIGINT')
                 and try_cast({_s('$.http_status')} as bigint) between 100 and 599))
        and {_t('$.request')} = 'OBJECT'
        and {_t('$.request.data')} = 'ARRAY'
        and len(keys[2]) = len(list_distinct(keys[2]))
        and list_bool_and(list_transform(event_keys, lambda k: len(k) = len(list_distinct(k)))) is not false
        and length(text) - length(replace(replace(text, '{{', ''), '[', '')) <= {MAX_BRACKETS}
        and not regexp_matches(text, {_literal(NOT_PLAIN_OR_CONTACT + _not_hashed(must_hash))})
        and {phones}
    )"""


def _not_hashed(must_hash: Sequence[str]) -> str:
    """A regex that finds a key named like a must-hash key (in any case, anywhere) holding
    anything but null, "", a SHA-256 hex digest or a list of those: what parse_line would
    redact (and more: any such key, not only the user object's)."""
    if not must_hash:
        return ""
    text = r'"([^0-9a-f"]|[0-9a-f]{1,63}[^0-9a-f]|[0-9a-f]{64}[^"])'
    value, item = rf"[-0-9tf{{]|{text}", rf"[-0-9tf{{\[]|{text}"  # an item may be a list itself
    return "|" + '"(?i:' + "|".join(must_hash) + r')"\s*:\s*' + rf"({value}|\[\s*({item}|[^\]]*,\s*({item})))"


def _attach(con: duckdb.DuckDBPyConnection, warehouse: Path) -> bool:
    """Attach the warehouse read-only when it holds delivery-log lines; whether it does."""
    if not warehouse.exists():
        return False
    con.execute(f"attach {_literal(str(warehouse))} as history (read_only)")
    has = con.execute(
        "select count(*) from duckdb_tables() where database_name = 'history' "
        "and schema_name = 'raw' and table_name = 'delivery_log'").fetchall()[0][0]
    if has and con.execute("select exists (select 1 from history.raw.delivery_log)").fetchall()[0][0]:
        return True
    con.execute("detach history")
    return False


def _numbered_texts(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number from 1, its text without trailing whitespace, or None when not UTF-8) for
    every line; lines end at `\\n` only, a BOM at the start of the file is dropped (as
    pipelines/files.py reads them). The file is decoded whole, line by line only when that fails."""
    try:
        data = gzip.decompress(path.read_bytes()) if is_gzip(path) else path.read_bytes()
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise InputError(f"{path} is not a complete gzip file ({exc})") from None
    data = data.removeprefix(BOM)
    ends = data.endswith(b"\n")
    texts: list[str | None]
    try:
        texts = [line.rstrip() for line in data.decode("utf-8").split("\n")]
    except UnicodeDecodeError:
        texts = []
        for line in data.split(b"\n"):
            try:
                texts.append(line.decode("utf-8").rstrip())
            except UnicodeDecodeError:
                texts.append(None)
    del data
    if ends:
        texts.pop()
    return enumerate(texts, start=1) if texts != [""] else iter(())


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
