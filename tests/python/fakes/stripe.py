"""Stripe's `GET /v1/charges`, as documented: bearer key, newest first, `limit`,
`starting_after`, `has_more`, `created[gte]`."""

from __future__ import annotations

from typing import Any

from fakes.server import Answer, FakeAPI, Request


def invalid_key(shown: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error",
                      "message": f"Invalid API Key provided: {shown[:8]}{'*' * 8}"}}


class FakeStripe(FakeAPI):
    def __init__(self, api_key: str) -> None:
        super().__init__()
        self.api_key = api_key
        self.charges: dict[str, dict[str, Any]] = {}

    def put(self, charge: dict[str, Any]) -> None:
        self.charges[charge["id"]] = charge

    def answer(self, request: Request) -> Answer:
        if request.path != "/v1/charges":
            return Answer(404, {"error": {"type": "invalid_request_error",
                                          "message": f"Unrecognized request URL (GET: {request.path})."}})
        auth = request.headers.get("authorization", "")
        if auth != f"Bearer {self.api_key}":
            return Answer(401, invalid_key(auth.removeprefix("Bearer ")))
        rows = sorted(self.charges.values(), key=lambda c: (c["created"], c["id"]), reverse=True)
        if "created[gte]" in request.query:
            rows = [c for c in rows if c["created"] >= int(request.query["created[gte]"])]
        if "starting_after" in request.query:
            ids = [c["id"] for c in rows]
            rows = rows[ids.index(request.query["starting_after"]) + 1:]
        limit = int(request.query.get("limit", 10))
        return Answer(200, {"object": "list", "url": "/v1/charges", "has_more": len(rows) > limit,
                            "data": rows[:limit]})


def stripe_charge(charge_id: str, created: int, **fields: Any) -> dict[str, Any]:
    charge = {
        "id": charge_id, "object": "charge", "amount": 2550, "amount_captured": 2550,
        "amount_refunded": 0, "captured": True, "created": created, "currency": "usd",
        "customer": None, "livemode": True, "paid": True, "refunded": False, "status": "succeeded",
        "payment_intent": f"pi_{charge_id}", "metadata": {},
        "receipt_email": None,
        "billing_details": {"email": "john_smith@gmail.com", "name": "Zebulon Quixley",
                            "phone": "+1 650 555 1212",
                            "address": {"city": "Menlo Park", "country": "US", "line1": "1 Hacker Way",
                                        "line2": None, "postal_code": "94025", "state": "CA"}},
        "payment_method_details": {"type": "card"},
    }
    charge.update(fields)
    return charge
