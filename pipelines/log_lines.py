"""Delivery-log lines parsed, validated and redacted, one file at a time, in any process.

pipelines/delivery_log.py hands large inputs to worker processes one file per task
(pipelines/spill.py), so this module imports no dlt. Which lines repeat earlier ones is decided
by the caller, across files.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa

from pipelines.files import numbered_lines
from pipelines.rejects import quote
from pipelines.seeds import Platform, known_platforms
from pipelines.spill import Spilled, SpillWriter
from pipelines.tables import Table
from signal_audit import pii

REDACTED = "[redacted plaintext]"
CHANNELS = ("server", "browser")

# Bytes of a line's SHA-256 kept to spot repeated lines: about 80 bytes a line in a set.
DIGEST = pa.field("digest", pa.binary(16), nullable=False)


def parse_file(path: Path, spill: Path, platforms: Mapping[str, Platform], table: Table) -> Spilled:
    """Every line of `path` as `table`'s row plus its line's `digest`, or rejected; blank lines
    are skipped. Raises InputError when the file is not UTF-8 or not complete gzip."""
    with SpillWriter(path, spill, table, extra=DIGEST) as out:
        for line, text in numbered_lines(path):
            if not text.strip():
                continue
            fields = parse_line(text, platforms)
            if isinstance(fields, str):
                out.reject(line, fields)
                continue
            digest = hashlib.sha256(text.encode()).digest()
            out.row((digest.hex(), *fields, str(path), line), digest[:DIGEST.type.byte_width])
    return out.spilled


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
