"""Delivery-log lines parsed, validated and redacted in Python: the reference for every check
and the path of every line that must be rejected or redacted (pipelines/log_sql.py sends here
the lines its SQL cannot prove clean). Imports no dlt.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

import orjson

from pipelines.rejects import quote
from pipelines.seeds import Platform, known_platforms
from signal_audit_core import pii

REDACTED = "[redacted plaintext]"
CHANNELS = ("server", "browser")

# Logs from outside these years are a broken clock or a placeholder (`9999-12-31`), not a
# request; the same bounds as an order's created_at.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
# orjson writes JSON nested up to this depth; a deeper request or response cannot be stored.
MAX_DEPTH = 254
# A place named in a finding (a path of keys) is cut to this length.
MAX_PLACE = 100

# (place, kind) -> values found there; kind is email, phone or plaintext (a must-hash key in
# another case, such as `EM`, holding neither)
Found = Counter[tuple[str, str]]
# event index in request.data -> what was found in it (made when first needed: most lines
# hold nothing)
Findings = defaultdict[int, Found]


class TooDeep(ValueError):
    """A request or response nested deeper than MAX_DEPTH."""


def parse_line(text: str, platforms: Mapping[str, Platform]) -> tuple[Any, ...] | str:
    """(platform, channel, pixel_id, sent_at, http_status, request JSON, response JSON,
    redacted_values, findings) of one line, or why the line is rejected. Findings are
    (event index, place, kind, values found) rows.

    No line stops a load: one that fails in a way not foreseen below is rejected with the kind
    of failure.
    """
    try:
        return _parse_line(text, platforms)
    except TooDeep:
        return f"JSON nested too deeply (more than {MAX_DEPTH} levels)"
    except (ArithmeticError, ValueError, TypeError, LookupError, RecursionError) as exc:
        return f"unreadable line ({type(exc).__name__})"


def _parse_line(text: str, platforms: Mapping[str, Platform]) -> tuple[Any, ...] | str:
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
        return f"unknown platform {_quote(platform_value)} (known: {known_platforms(platforms)})"

    channel = line.get("channel")
    if channel is None or channel == "":
        return "missing channel"
    if not isinstance(channel, str) or channel.strip().lower() not in CHANNELS:
        return f"channel {_quote(channel)} is not server or browser"

    pixel_id = line.get("pixel_id")
    if pixel_id is not None and (isinstance(pixel_id, bool) or not isinstance(pixel_id, str | int)):
        return "pixel_id is not a string"

    sent_at_value = line.get("sent_at")
    if sent_at_value is None or sent_at_value == "":
        return "missing sent_at"
    sent_at = _timestamp(sent_at_value)
    if sent_at is None:
        return f"sent_at {_quote(sent_at_value)} is not a timestamp"
    if not EARLIEST <= sent_at < LATEST:
        return f"sent_at {_quote(sent_at_value)} is outside the years {EARLIEST.year}-{LATEST.year - 1}"

    http_status = line.get("http_status")
    if http_status is not None and (
        isinstance(http_status, bool) or not isinstance(http_status, int)
        or not 100 <= http_status <= 599
    ):
        return f"http_status {_quote(http_status)} is not an HTTP status code"

    request = line.get("request")
    if request is None:
        return "missing request"
    if not isinstance(request, dict) or not isinstance(request.get("data"), list):
        return "request has no data list"

    response = line.get("response")
    found: Findings = defaultdict(Counter)
    redacted = redact(request, platform, found)
    # dumped before the walk below: orjson refuses what is nested too deep to walk
    request_json = _compact(request)
    response_json = None if response is None else _compact(response)
    pixel = None if pixel_id is None else str(pixel_id)
    # what would land is looked at as a whole first, as most lines hold nothing to replace
    if (pii.may_hold_contact(request_json)
            or (response_json is not None and pii.may_hold_contact(response_json))
            or (pixel is not None and pii.may_hold_contact(pixel))):
        before = _total(found)
        request, response, pixel = _scrub_line(request, response, pixel, found)
        if _total(found) > before:
            request_json = _compact(request)
            response_json = None if response is None else _compact(response)
    return (
        platform.name,
        channel.strip().lower(),
        pixel,
        sent_at,
        http_status,
        request_json,
        response_json,
        redacted + _total(found),
        _findings(found, len(request["data"])),
    )


def redact(request: dict[str, Any], platform: Platform, found: Findings) -> int:
    """Replace plaintext values of must-hash keys in every event's user object, in place.

    A value is plaintext unless it is a SHA-256 hex digest; numbers count too (a phone sent
    as a number is still a phone). Returns how many values of the platform's keys were
    replaced: staging sees those as present but unhashed. A must-hash key written in another
    case (`EM`, `Fn`) is no key of the platform and staging does not read it: its plaintext is
    replaced too and counted in `found` (its event's), as an email, a phone or plaintext.
    """
    replaced = 0
    for index, event in enumerate(request["data"]):
        user = event.get(platform.user_object) if isinstance(event, dict) else None
        if not isinstance(user, dict):
            continue
        for key in user:
            if key in platform.must_hash:
                replaced += _redact_value(user, key)
            elif not key.islower() and key.lower() in platform.must_hash:
                place = _place(platform.user_object, key)
                for value in user[key] if isinstance(user[key], list) else [user[key]]:
                    if _is_plaintext(value):
                        _, emails, phones = pii.find_contacts(str(value))
                        found[index][place, "email" if emails else "phone" if phones else "plaintext"] += 1
                _redact_value(user, key)
    return replaced


def _redact_value(user: dict[str, Any], key: str) -> int:
    """Replace plaintext in `user[key]` (a list: in each item); how many values were replaced."""
    value = user[key]
    if isinstance(value, list):
        replaced = 0
        for i, item in enumerate(value):
            if _is_plaintext(item):
                value[i] = REDACTED
                replaced += 1
        return replaced
    if _is_plaintext(value):
        user[key] = REDACTED
        return 1
    return 0


def _scrub_line(
    request: dict[str, Any], response: Any, pixel_id: str | None, found: Findings
) -> tuple[dict[str, Any], Any, str | None]:
    """The request, response and pixel id with every e-mail address and phone number (in
    values and in keys) replaced by a marker, each counted in `found` at its place: a key path
    within the event for what an event of `request.data` holds (`event_source_url`,
    `custom_data.note`, `context.user.email`; list positions left out), else `request.<path>`,
    `response.<path>` or `pixel_id`, counted with the first event. Changed in place where
    possible: most lines hold nothing to replace."""
    events = request["data"]
    for i, event in enumerate(events):
        events[i] = _scrub(event, "", found[i])
    request["data"] = []  # the request's own fields, the events set aside (keys keep their order)
    request = _scrub(request, "request", found[0])
    request["data"] = events
    response = _scrub(response, "response", found[0])
    if pixel_id is not None:
        pixel_id = _scrub(pixel_id, "pixel_id", found[0])
    return request, response, pixel_id


def _scrub(value: Any, place: str, found: Found) -> Any:
    if isinstance(value, str):
        return _scrub_text(value, place, found) if pii.may_hold_contact(value) else value
    if isinstance(value, list):
        for i, item in enumerate(value):
            if isinstance(item, str | list | dict):
                value[i] = _scrub(item, place, found)
        return value
    if isinstance(value, dict):
        if any(pii.may_hold_contact(key) for key in value):
            value = _scrub_keys(value, place, found)
        for key, item in value.items():
            if isinstance(item, str):
                if pii.may_hold_contact(item):
                    value[key] = _scrub_text(item, _place(place, key), found)
            elif isinstance(item, list | dict):
                value[key] = _scrub(item, _place(place, key), found)
        return value
    return value


def _scrub_text(text: str, place: str, found: Found) -> str:
    redacted, emails, phones = pii.find_contacts(text)
    if emails:
        found[place or "(the event)", "email"] += emails
    if phones:
        found[place or "(the event)", "phone"] += phones
    return redacted


def _scrub_keys(value: dict[str, Any], place: str, found: Found) -> dict[str, Any]:
    """The object with any e-mail address or phone number in its keys replaced
    (`{"john@x.com": 1}`), each key kept distinct from the keys before it."""
    scrubbed: dict[str, Any] = {}
    for key, item in value.items():
        redacted = _scrub_text(key, _place(place, "(a key)"), found)
        unique, n = redacted, 1
        while unique in scrubbed:
            n += 1
            unique = f"{redacted} {n}"
        scrubbed[unique] = item
    return scrubbed


def _place(parent: str, key: str) -> str:
    place = f"{parent}.{key}" if parent else key
    return place if len(place) <= MAX_PLACE else place[:MAX_PLACE - 3] + "..."


def _total(found: Findings) -> int:
    return sum(sum(event.values()) for event in found.values())


def _findings(found: Findings, events: int) -> tuple[tuple[int, str, str, int], ...]:
    """(event index in request.data, place, kind, values found) for every finding; what was
    found outside any event counts with the first (index 0, even when data is empty)."""
    return tuple((i, place, kind, n) for i in range(max(events, 1)) for (place, kind), n in sorted(found[i].items()))


def _is_plaintext(value: Any) -> bool:
    if value is None or value == "" or value == REDACTED:
        return False
    return not pii.is_sha256(value)


def _compact(value: Any) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError as exc:  # orjson's only failure on parsed JSON is its depth limit
        raise TooDeep from exc


def _quote(value: Any) -> str:
    """A value for a reject reason, with any e-mail address or phone number in it replaced."""
    return quote(pii.find_contacts(str(value))[0])


def _timestamp(value: Any) -> dt.datetime | None:
    """ISO 8601 in UTC; a time without offset is taken as UTC, as log timestamps are. None when
    not a timestamp. One that leaves the years 1-9999 once in UTC (`9999-12-31T23:59:59-05:00`)
    is the earliest or latest datetime, outside any range a caller accepts."""
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    try:
        return parsed.astimezone(dt.UTC)
    except OverflowError:
        return (dt.datetime.min if parsed.year == 1 else dt.datetime.max).replace(tzinfo=dt.UTC)
