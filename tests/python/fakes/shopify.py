"""Shopify's Admin REST API orders endpoint, as documented.

`GET /admin/api/<version>/orders.json` with `X-Shopify-Access-Token`; `status` defaults to
open orders only; `updated_at_min` filters; cursor pagination through the `Link` header, whose
`page_info` carries the filters (Shopify refuses other filters beside it).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from typing import Any

from fakes.server import Answer, FakeAPI, Request

INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}


class FakeShopify(FakeAPI):
    def __init__(self, token: str, api_version: str = "2024-10") -> None:
        super().__init__()
        self.token = token
        self.api_version = api_version
        self.orders: dict[int, dict[str, Any]] = {}

    def put(self, order: dict[str, Any]) -> None:
        self.orders[order["id"]] = order

    def answer(self, request: Request) -> Answer:
        if request.path != f"/admin/api/{self.api_version}/orders.json":
            return Answer(404, {"errors": "Not Found"})
        if request.headers.get("x-shopify-access-token") != self.token:
            return Answer(401, INVALID_TOKEN)
        query = dict(request.query)
        if "page_info" in query:
            extra = set(query) - {"page_info", "limit", "fields"}
            if extra:
                return Answer(400, {"errors": {"page_info": [f"cannot be combined with {sorted(extra)}"]}})
            query = {**json.loads(base64.urlsafe_b64decode(query["page_info"])), "limit": query.get("limit", "50")}
        limit = min(int(query.get("limit", 50)), 250)
        rows = sorted(self.orders.values(), key=lambda o: o["id"])
        if query.get("status", "open") == "open":
            rows = [o for o in rows if not o.get("closed_at") and not o.get("cancelled_at")]
        if query.get("updated_at_min"):
            start = dt.datetime.fromisoformat(query["updated_at_min"])
            rows = [o for o in rows if dt.datetime.fromisoformat(o["updated_at"]) >= start]
        offset = int(query.get("offset", 0))
        page = rows[offset:offset + limit]
        headers = {}
        if offset + limit < len(rows):
            state = {k: v for k, v in query.items() if k not in ("limit", "page_info")}
            token = base64.urlsafe_b64encode(json.dumps({**state, "offset": offset + limit}).encode()).decode()
            next_url = f"{self.url}{request.path}?limit={limit}&page_info={token}"
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Answer(200, {"orders": page}, headers)


def shopify_order(order_id: int, updated_at: str, **fields: Any) -> dict[str, Any]:
    """An order shaped like the Admin API's, with a customer who has an account."""
    order = {
        "id": order_id,
        "name": f"#{order_id - 449_000_000}" if order_id > 449_000_000 else f"#{order_id}",
        "order_number": order_id,
        "created_at": "2026-05-01T08:00:00-04:00",
        "updated_at": updated_at,
        "financial_status": "paid",
        "currency": "USD",
        "total_price": "25.50",
        "source_name": "web",
        "test": False,
        "buyer_accepts_marketing": True,
        "email": "john_smith@gmail.com",
        "phone": None,
        "customer": {"id": 7001, "state": "enabled", "email": "john_smith@gmail.com",
                     "first_name": "Zebulon", "last_name": "Quixley"},
        "billing_address": {"first_name": "Zebulon", "last_name": "Quixley", "city": "Menlo Park",
                            "province_code": "CA", "zip": "94025", "country_code": "US",
                            "phone": "(650) 555-1212"},
        "closed_at": None,
        "cancelled_at": None,
    }
    order.update(fields)
    return order
