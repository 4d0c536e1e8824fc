"""Meta's own view of the dataset, from the Graph API, with dlt's rest_api.

- Dataset Quality API: `GET /<version>/dataset_quality?dataset_id=<pixel>&fields=web{...}`,
  one row per web event in `raw.meta_dataset_quality`. Meta computes the event match quality
  over a recent rolling window, so each run keeps a snapshot for the day it ran (merged on
  snapshot_date, dataset_id, event_name: rerunning the same day replaces that day's snapshot),
  and the platform's score gets a history.
- Pixel stats: `GET /<version>/<pixel>/stats?aggregation=event&start_time=..`, one block per
  hour, flattened into `raw.meta_pixel_stats` (hour_start, pixel_id, event_name, event_count).
  Incremental on the hour; each run re-reads the last `pixel_stats_refetch_hours`, whose counts
  still grow, and merges them.

Pages follow `paging.next`. The token is sent as an OAuth bearer token in the Authorization
header, never in a URL, so no log line or error message can carry it; an `access_token` that
Meta echoes into a `paging.next` URL is removed before the URL is followed.
Rate limits (error codes 4, 17, 32, 613, 80000-80014, or `is_transient`) are retried like 429.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import dlt
import requests
from dlt.extract import DltResource
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from dlt.sources.rest_api import rest_api_resources
from requests import Response

from pipelines.rejects import Position, Rejected, Tally, emit
from pipelines.sources.http import retrying_session
from pipelines.tables import (
    DATE,
    DOUBLE,
    INT64,
    SOURCE_COLUMNS,
    TEXT,
    TIMESTAMPTZ,
    Column,
    Table,
)
from signal_audit_core.config import HttpConfig, MetaGraphConfig, secret_env_var

SECRET = "meta_graph"

META_DATASET_QUALITY = Table(
    "meta_dataset_quality",
    primary_key=("snapshot_date", "dataset_id", "event_name"),
    columns=(
        Column("snapshot_date", DATE, nullable=False),  # UTC day of fetched_at
        Column("dataset_id", TEXT, nullable=False),
        Column("event_name", TEXT, nullable=False),
        Column("fetched_at", TIMESTAMPTZ, nullable=False),
        Column("composite_score", DOUBLE),  # event_match_quality.composite_score, 0-10
        Column("match_key_feedback", TEXT),  # JSON text, as Meta sent it
        Column("diagnostics", TEXT),  # JSON text: event_match_quality.diagnostics
        Column("event_coverage_percentage", DOUBLE),  # 0-100 as Meta shows it
        Column("event_coverage_goal_percentage", DOUBLE),
        Column("dedupe_key_feedback", TEXT),  # JSON text
        Column("data_freshness", TEXT),  # data_freshness.upload_frequency: real_time, hourly, ...
        Column("acr_percentage", DOUBLE),  # additional conversions reported, 0-100
        Column("event_potential_aly_acr_increase", TEXT),  # JSON text
        *SOURCE_COLUMNS,
    ),
)

META_PIXEL_STATS = Table(
    "meta_pixel_stats",
    primary_key=("hour_start", "pixel_id", "event_name"),
    columns=(
        Column("hour_start", TIMESTAMPTZ, nullable=False),
        Column("pixel_id", TEXT, nullable=False),
        Column("event_name", TEXT, nullable=False),
        Column("event_count", INT64, nullable=False),
        Column("fetched_at", TIMESTAMPTZ, nullable=False),
        *SOURCE_COLUMNS,
    ),
)

DATASET_QUALITY_FIELDS = (
    "web{event_name,event_match_quality,event_coverage,dedupe_key_feedback,data_freshness,acr,"
    "event_potential_aly_acr_increase}"
)
# Graph API error codes that mean "slow down, then try again".
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})


class GraphPaginator(JSONLinkPaginator):
    """`paging.next`, without any `access_token` Meta may have put in it (the header carries it)."""

    def __init__(self) -> None:
        super().__init__(next_url_path="paging.next")

    def update_state(self, response: Response, data: list[Any] | None = None) -> None:
        super().update_state(response, data)
        if self._next_reference:
            parts = urlsplit(self._next_reference)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "access_token"]
            self._next_reference = urlunsplit(parts._replace(query=urlencode(query)))


def graph_error(response: Response | None) -> dict[str, Any] | None:
    if response is None or response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else None


def retryable(response: Response | None, exception: BaseException | None) -> bool:
    error = graph_error(response)
    return error is not None and (error.get("code") in RATE_LIMIT_CODES or error.get("is_transient") is True)


def refusal(response: requests.Response) -> str | None:
    error = graph_error(response)
    if error is None:
        if response.status_code in (401, 403):
            return f"the access token was refused (HTTP {response.status_code}) — check {secret_env_var(SECRET)}"
        return None
    code, message = error.get("code"), str(error.get("message") or "").strip()
    if code in (190, 102):
        return f"the access token was refused (Meta error {code}: {message}) — check {secret_env_var(SECRET)}"
    if code == 10 or (isinstance(code, int) and 200 <= code < 300):
        return (f"the access token may not read this dataset (Meta error {code}: {message}); assign the "
                "pixel to the token's system user")
    if code in (100, 803):
        return (f"Meta refused the request (error {code}: {message}); check sources.meta_graph.pixel_ids "
                "and api_version")
    return None


def meta_graph_resources(
    config: MetaGraphConfig, http: HttpConfig, token: str, now: dt.datetime, tallies: Mapping[str, Tally]
) -> list[DltResource]:
    """One dataset-quality and one pixel-stats resource per pixel; state is kept per pixel."""
    base = f"{config.base_url}/{config.api_version}/"
    resources: list[Any] = []
    reads: dict[str, tuple[str, str]] = {}  # resource name -> (what it reads, pixel id)
    for pixel_id in config.pixel_ids:
        if config.dataset_quality:
            reads[f"meta_dataset_quality_read_{pixel_id}"] = ("dataset_quality", pixel_id)
            resources.append({
                "name": f"meta_dataset_quality_read_{pixel_id}",
                "endpoint": {
                    "path": "dataset_quality",
                    # rest_api expands {placeholders} in params: the field list's braces are doubled
                    "params": {"dataset_id": pixel_id,
                               "fields": DATASET_QUALITY_FIELDS.replace("{", "{{").replace("}", "}}")},
                    "data_selector": "web",
                },
            })
        if config.pixel_stats:
            reads[f"meta_pixel_stats_read_{pixel_id}"] = ("pixel_stats", pixel_id)
            resources.append({
                "name": f"meta_pixel_stats_read_{pixel_id}",
                "endpoint": {
                    "path": f"{pixel_id}/stats",
                    "params": {"aggregation": "event"},
                    "data_selector": "data",
                    "incremental": {
                        "start_param": "start_time",
                        "cursor_path": "start_time",
                        "initial_value": _hour(now - dt.timedelta(days=config.pixel_stats_days)),
                        "lag": config.pixel_stats_refetch_hours * 3600,
                        "on_cursor_value_missing": "include",  # rejected with a reason below
                        "convert": lambda value: int(value.timestamp()),
                    },
                },
            })
    if not resources:
        return []
    readers = rest_api_resources({
        "client": {
            "base_url": base,
            "auth": BearerTokenAuth(token=token),
            "paginator": GraphPaginator(),
            "session": retrying_session(SECRET, http, retryable),
        },
        "resources": resources,
    })
    fetched_at = now.astimezone(dt.UTC)
    latest = fetched_at + dt.timedelta(days=1)

    def hour_as_cursor(block: Any) -> Any:  # one parameter: dlt passes a second, `meta`, to two
        return _start_time_as_timestamp(block, latest)

    out: list[DltResource] = []
    for reader in readers:
        kind, pixel_id = reads[reader.name]
        if kind == "dataset_quality":
            url = f"{base}dataset_quality?dataset_id={pixel_id}"
            out.append(reader | _dataset_quality_rows(pixel_id, url, fetched_at, tallies["meta_dataset_quality"]))
        else:
            reader.add_map(hour_as_cursor, insert_at=1)
            url = f"{base}{pixel_id}/stats?aggregation=event"
            out.append(reader | _pixel_stats_rows(pixel_id, url, fetched_at, tallies["meta_pixel_stats"]))
    return out


def _dataset_quality_rows(pixel_id: str, url: str, fetched_at: dt.datetime, tally: Tally) -> DltResource:
    counter = [0]

    @dlt.transformer(name=f"meta_dataset_quality_{pixel_id}")
    def rows(page: list[dict[str, Any]]) -> Iterator[Any]:
        def items() -> Iterator[tuple[Any, ...] | Rejected]:
            for event in page:
                counter[0] += 1
                position = Position(url, counter[0])
                yield _guarded(dataset_quality_row, position, event, pixel_id, fetched_at, position)

        yield from emit("meta_dataset_quality", META_DATASET_QUALITY, items(), tally, ensure_tables=False)

    return rows


def dataset_quality_row(
    event: Any, pixel_id: str, fetched_at: dt.datetime, position: Position
) -> tuple[Any, ...] | Rejected:
    if not isinstance(event, Mapping):
        return Rejected(position, "not a JSON object")
    name = str(event.get("event_name") or "").strip()
    if not name:
        return Rejected(position, "missing event_name")
    emq = _object(event.get("event_match_quality"))
    coverage = _object(event.get("event_coverage"))
    freshness = _object(event.get("data_freshness"))
    score = _number(emq.get("composite_score"))
    if score is not None and not 0 <= score <= 10:
        return Rejected(position, f"composite_score {score} is outside 0-10")
    return (
        fetched_at.date(), pixel_id, name, fetched_at,
        score,
        _json(emq.get("match_key_feedback")),
        _json(emq.get("diagnostics")),
        _number(coverage.get("percentage")),
        _number(coverage.get("goal_percentage")),
        _json(event.get("dedupe_key_feedback")),
        freshness.get("upload_frequency"),
        _number(_object(event.get("acr")).get("percentage")),
        _json(event.get("event_potential_aly_acr_increase")),
        position.file, position.line,
    )


def _pixel_stats_rows(pixel_id: str, url: str, fetched_at: dt.datetime, tally: Tally) -> DltResource:
    counter = [0]

    @dlt.transformer(name=f"meta_pixel_stats_{pixel_id}")
    def rows(page: list[dict[str, Any]]) -> Iterator[Any]:
        def items() -> Iterator[tuple[Any, ...] | Rejected]:
            for block in page:
                stats = block.get("data") if isinstance(block, Mapping) else block
                if not isinstance(stats, list | None):  # an hour without events has no data
                    counter[0] += 1
                    yield Rejected(Position(url, counter[0]), "not an hour's stats (an object with a data list)")
                    continue
                for stat in stats or []:
                    counter[0] += 1
                    position = Position(url, counter[0])
                    yield _guarded(pixel_stats_row, position, block, stat, pixel_id, fetched_at, position)

        yield from emit("meta_pixel_stats", META_PIXEL_STATS, items(), tally, ensure_tables=False)

    return rows


def pixel_stats_row(
    block: Mapping[str, Any], stat: Mapping[str, Any], pixel_id: str, fetched_at: dt.datetime, position: Position
) -> tuple[Any, ...] | Rejected:
    hour = block.get("start_time")
    if not isinstance(hour, dt.datetime):
        return Rejected(position, "missing or unparseable start_time")
    if not isinstance(stat, Mapping):
        return Rejected(position, "not a JSON object")
    name = str(stat.get("value") or "").strip()
    if not name:
        return Rejected(position, "missing event name (value)")
    count = stat.get("count")
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count)
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        return Rejected(position, "count is not a whole number >= 0")
    return (hour.astimezone(dt.UTC), pixel_id, name, count, fetched_at, position.file, position.line)


def _guarded(
    row: Callable[..., tuple[Any, ...] | Rejected], position: Position, *args: Any
) -> tuple[Any, ...] | Rejected:
    """`row(*args)`; a record of a shape not foreseen (text where an object belongs) is one
    reject at `position`."""
    try:
        return row(*args)
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError, RecursionError) as exc:
        return Rejected(position, f"unreadable record ({type(exc).__name__})")


def _start_time_as_timestamp(block: Any, latest: dt.datetime) -> Any:
    """The hour as an aware timestamp in UTC, or None when it is no time up to `latest`: dlt's
    incremental step lets such a block pass without moving the cursor (a bogus year 9999 would
    skip every later hour), and its rows are rejected."""
    if not isinstance(block, dict):  # no hour: its rows (if any) are rejected
        return {"start_time": None, "data": block}
    value = block.get("start_time")
    try:
        stamp = dt.datetime.fromisoformat(value) if isinstance(value, str) else value  # ...T10:00:00+0000
        if isinstance(stamp, dt.datetime) and stamp.tzinfo is not None:
            stamp = stamp.astimezone(dt.UTC)
        if not (isinstance(stamp, dt.datetime) and stamp.tzinfo is not None and stamp <= latest):
            stamp = None
    except (ValueError, OverflowError):
        stamp = None
    block["start_time"] = stamp
    return block


def _hour(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, sort_keys=True)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
