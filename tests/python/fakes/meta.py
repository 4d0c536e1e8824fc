"""Meta's Graph API for the Dataset Quality API and pixel stats, as documented.

Errors come as `{"error": {"message", "type", "code", ...}}`; 190 is a bad token, 4 and 80004
are rate limits. Pixel stats answer one block per hour, newest first, and page with
`paging.next`, which (like Meta's own) repeats the query, an `access_token` included.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from fakes.server import Answer, FakeAPI, Request

BAD_TOKEN = {"error": {"message": "Invalid OAuth access token - Cannot parse access token",
                       "type": "OAuthException", "code": 190, "fbtrace_id": "AbCdEf"}}
RATE_LIMIT_4 = {"error": {"message": "(#4) Application request limit reached", "type": "OAuthException",
                          "is_transient": True, "code": 4, "fbtrace_id": "AbCdEf"}}
RATE_LIMIT_80004 = {"error": {"message": "There have been too many calls to this ad-account. Wait a bit "
                                         "and try again.", "type": "OAuthException", "code": 80004,
                              "error_subcode": 2446079, "fbtrace_id": "AbCdEf"}}


class FakeGraph(FakeAPI):
    def __init__(self, token: str, version: str = "v21.0", page_size: int = 2) -> None:
        super().__init__()
        self.token = token
        self.version = version
        self.page_size = page_size
        self.quality: dict[str, list[dict[str, Any]]] = {}  # pixel -> web[]
        self.stats: dict[str, dict[dt.datetime, dict[str, int]]] = {}  # pixel -> hour -> event -> count

    def answer(self, request: Request) -> Answer:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Answer(400, BAD_TOKEN)
        prefix = f"/{self.version}/"
        if not request.path.startswith(prefix):
            return Answer(400, {"error": {"message": "Unknown path components", "type": "OAuthException",
                                          "code": 2500}})
        node = request.path.removeprefix(prefix)
        if node == "dataset_quality":
            pixel = request.query.get("dataset_id", "")
            if pixel not in self.quality:
                return _unsupported(pixel)
            return Answer(200, {"web": self.quality[pixel]})
        if node.endswith("/stats"):
            pixel = node.removesuffix("/stats")
            if pixel not in self.stats or request.query.get("aggregation") != "event":
                return _unsupported(pixel)
            start = int(request.query.get("start_time", 0))
            hours = sorted((h for h in self.stats[pixel] if h.timestamp() >= start), reverse=True)
            offset = int(request.query.get("after", 0))
            page = hours[offset:offset + self.page_size]
            body: dict[str, Any] = {"data": [
                {"aggregation": "event", "start_time": h.strftime("%Y-%m-%dT%H:%M:%S+0000"),
                 "data": [{"value": name, "count": count} for name, count in self.stats[pixel][h].items()]}
                for h in page
            ], "paging": {"cursors": {"before": str(offset), "after": str(offset + len(page))}}}
            if offset + self.page_size < len(hours):
                query = {**request.query, "after": offset + self.page_size, "access_token": self.token}
                body["paging"]["next"] = f"{self.url}{request.path}?{urlencode(query)}"
            return Answer(200, body)
        return _unsupported(node)


def _unsupported(node: str) -> Answer:
    return Answer(400, {"error": {"message": f"Unsupported get request. Object with ID '{node}' does not "
                                             "exist, cannot be loaded due to missing permissions, or does not "
                                             "support this operation.", "type": "GraphMethodException",
                                  "code": 100, "error_subcode": 33}})


def quality_event(name: str, score: float, email: float = 90.0, phone: float = 40.0) -> dict[str, Any]:
    """One `web[]` entry of the Dataset Quality API."""
    return {
        "event_name": name,
        "event_match_quality": {
            "composite_score": score,
            "match_key_feedback": [
                {"identifier": "email", "coverage": {"percentage": email}},
                {"identifier": "phone", "coverage": {"percentage": phone}},
                {"identifier": "ip_address", "coverage": {"percentage": 100.0}},
            ],
            "diagnostics": [],
        },
        "event_coverage": {"percentage": 80.0, "goal_percentage": 75},
        "dedupe_key_feedback": [{"dedupe_key": "event_id",
                                 "browser_events_with_dedupe_key": {"percentage": 98.0},
                                 "server_events_with_dedupe_key": {"percentage": 99.0}}],
        "data_freshness": {"upload_frequency": "real_time"},
        "acr": {"percentage": 12.5},
    }
