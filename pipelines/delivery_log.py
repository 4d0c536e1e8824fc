"""Event delivery log: one JSON line per request to a platform (or pixel fire) -> raw.delivery_log.

The request is kept in the platform's native shape, with one exception: a must-hash match key
(per the seeds) that holds plaintext is replaced by a marker. Sending plaintext PII is itself a
finding, which staging still sees as a present but unhashed value; the plaintext never lands.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dlt
import orjson
from dlt.extract.items import DataItemWithMeta

from pipelines.files import numbered_lines
from pipelines.rejects import Position, Rejected, Tally, emit, quote
from pipelines.seeds import Platform, known_platforms
from pipelines.tables import INT32, SOURCE_COLUMNS, TEXT, TIMESTAMPTZ, Column, Table
from signal_audit import pii

DELIVERY_LOG = Table(
    "delivery_log",
    primary_key=("record_id",),
    columns=(
        Column("record_id", TEXT, nullable=False),
        Column("platform", TEXT, nullable=False),
        Column("channel", TEXT, nullable=False),
        Column("pixel_id", TEXT),
        Column("sent_at", TIMESTAMPTZ, nullable=False),
        Column("http_status", INT32),
        Column("request", TEXT, nullable=False),
        Column("response", TEXT),
        Column("redacted_values", INT32, nullable=False),
        *SOURCE_COLUMNS,
    ),
    unique_keys=True,  # a repeated line is rejected as a duplicate, never yielded twice
)

REDACTED = "[redacted plaintext]"
CHANNELS = ("server", "browser")


@dlt.resource(name="delivery_log")
def delivery_log(
    files: Sequence[Path], platforms: Mapping[str, Platform], tally: Tally
) -> Iterator[DataItemWithMeta]:
    yield from emit("delivery_log", DELIVERY_LOG, read_delivery_log(files, platforms), tally)


def read_delivery_log(
    files: Sequence[Path], platforms: Mapping[str, Platform]
) -> Iterator[tuple[Any, ...] | Rejected]:
    """raw.delivery_log rows in file order; the first copy of a repeated line wins.

    A year of logs is millions of lines, so only a 16-byte digest of each line is kept to
    spot repeats (about 80 bytes a line); where the first copy was is looked up again only
    when a repeat turns up, which is rare.
    """
    seen: set[bytes] = set()
    for path in files:
        for line, text in numbered_lines(path):
            if not text.strip():
                continue
            position = Position(str(path), line)
            parsed = parse_line(text, platforms)
            if isinstance(parsed, str):
                yield Rejected(position, parsed)
                continue
            digest = hashlib.sha256(text.encode()).digest()
            if digest[:16] in seen:
                yield Rejected(position, f"duplicate of {_first_copy(files, text, position)}")
                continue
            seen.add(digest[:16])
            yield (digest.hex(), *parsed, position.file, position.line)


def _first_copy(files: Sequence[Path], text: str, before: Position) -> Position:
    """Where `text` first appears in `files` (it does, before `before`)."""
    for path in files:
        for line, other in numbered_lines(path):
            if str(path) == before.file and line >= before.line:
                return before
            if other == text:
                return Position(str(path), line)
    return before


def parse_line(text: str, platforms: Mapping[str, Platform]) -> tuple[Any, ...] | str:
    """(platform .. redacted_values) of one line, or why the line is rejected."""
    try:
        # orjson (several times faster than json on millions of lines) refuses NaN and
        # Infinity, which are not JSON and which staging's JSON functions would choke on.
        line = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        return f"malformed JSON: {exc.msg}"
    if not isinstance(line, dict):
        return "not a JSON object"

    platform_value = line.get("platform")
    if platform_value is None or platform_value == "":
        return "missing platform"
    platform = platforms.get(str(platform_value).strip().lower())
    if platform is None:
        return f"unknown platform {quote(platform_value)} (known: {known_platforms(platforms)})"

    channel = line.get("channel")
    if channel is None or channel == "":
        return "missing channel"
    if not isinstance(channel, str) or channel.strip().lower() not in CHANNELS:
        return f"channel {quote(channel)} is not server or browser"

    pixel_id = line.get("pixel_id")
    if pixel_id is not None and (isinstance(pixel_id, bool) or not isinstance(pixel_id, str | int)):
        return "pixel_id is not a string"

    sent_at_value = line.get("sent_at")
    if sent_at_value is None or sent_at_value == "":
        return "missing sent_at"
    sent_at = _timestamp(sent_at_value)
    if sent_at is None:
        return f"sent_at {quote(sent_at_value)} is not a timestamp"

    http_status = line.get("http_status")
    if http_status is not None and (
        isinstance(http_status, bool) or not isinstance(http_status, int)
        or not 100 <= http_status <= 599
    ):
        return f"http_status {quote(http_status)} is not an HTTP status code"

    request = line.get("request")
    if request is None:
        return "missing request"
    if not isinstance(request, dict) or not isinstance(request.get("data"), list):
        return "request has no data list"

    redacted = redact(request, platform)
    response = line.get("response")
    return (
        platform.name,
        channel.strip().lower(),
        None if pixel_id is None else str(pixel_id),
        sent_at,
        http_status,
        _compact(request),
        None if response is None else _compact(response),
        redacted,
    )


def redact(request: dict[str, Any], platform: Platform) -> int:
    """Replace plaintext values of must-hash keys in every event's user object, in place.

    A value is plaintext unless it is a SHA-256 hex digest; numbers count too (a phone sent
    as a number is still a phone). Returns how many values were replaced.
    """
    replaced = 0
    for event in request["data"]:
        user = event.get(platform.user_object) if isinstance(event, dict) else None
        if not isinstance(user, dict):
            continue
        for key in platform.must_hash.intersection(user):
            value = user[key]
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if _is_plaintext(item):
                        value[i] = REDACTED
                        replaced += 1
            elif _is_plaintext(value):
                user[key] = REDACTED
                replaced += 1
    return replaced


def _is_plaintext(value: Any) -> bool:
    if value is None or value == "" or value == REDACTED:
        return False
    return not pii.is_sha256(value)


def _compact(value: Any) -> str:
    return orjson.dumps(value).decode()


def _timestamp(value: Any) -> dt.datetime | None:
    """ISO 8601; a time without offset is taken as UTC, as log timestamps are."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)

