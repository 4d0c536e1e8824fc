"""Native request bodies and responses of Meta CAPI, TikTok Events API and Snap CAPI.

Shapes follow shared/reference/platforms.md sections 1-3 and 7: server events as the
platforms' SDKs build them, browser events with the pixel's own parameters only.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Literal

from signal_audit.demo import ids
from signal_audit.demo.orders import Order
from signal_audit_core import pii

THANK_YOU_URL = "https://shop.example/checkout/thank-you"
CART_URL = "https://shop.example/cart"
DAY_SECONDS = 86_400

BrowserKind = Literal["page_view", "add_to_cart", "purchase"]
Event = dict[str, Any]


@dataclass(frozen=True)
class ServerSignals:
    """What one server purchase event carries, as decided by the platform's defects."""

    email: Literal["none", "hashed", "unnormalized"]
    phone: Literal["none", "hashed", "plaintext"]
    currency: bool
    string_value: bool  # value as a string with a decimal comma, e.g. "12,99"
    order_id: bool


@dataclass(frozen=True)
class BrowserHit:
    """One pixel fire on the shop's pages."""

    kind: BrowserKind
    order: Order
    event_id: str
    fired_at: int  # unix seconds


def _value(order: Order, signals: ServerSignals) -> float | str:
    if signals.string_value:
        return f"{order.total_value:.2f}".replace(".", ",")
    return order.total_value


def _identity_lists(order: Order, signals: ServerSignals) -> dict[str, Any]:
    """em, ph and the hashed name and address keys, each a list, as Meta and Snap take them."""
    keys = order.keys
    user: dict[str, Any] = {}
    if signals.email != "none":
        user["em"] = [keys.email if signals.email == "hashed" else keys.email_unnormalized]
    if signals.phone != "none":
        user["ph"] = [keys.phone if signals.phone == "hashed" else order.phone]
    for native, value in (("fn", keys.first_name), ("ln", keys.last_name), ("ct", keys.city),
                          ("st", keys.state), ("zp", keys.zip), ("country", keys.country)):
        user[native] = [value]
    return user


def _present(**values: str | None) -> dict[str, str]:
    """Only the identifiers the session has: absent cookies are left out, not sent empty."""
    return {key: value for key, value in values.items() if value}


def _page_url(hit: BrowserHit) -> str:
    if hit.kind == "purchase":
        return THANK_YOU_URL
    if hit.kind == "add_to_cart":
        return CART_URL
    return f"https://shop.example/products/{hit.order.items[0][0].lower()}"


class PlatformPayloads(ABC):
    """One platform's native shapes, and the rejections it documents."""

    platform: str
    pixel_id: str
    event_names: dict[BrowserKind, str]
    _action_source: dict[str, str]  # purchase path -> action_source, where the event has one

    @property
    def purchase_event(self) -> str:
        return self.event_names["purchase"]

    @abstractmethod
    def request(self, events: list[Event]) -> dict[str, Any]: ...

    @abstractmethod
    def server_event(self, order: Order, signals: ServerSignals) -> Event: ...

    @abstractmethod
    def browser_event(self, hit: BrowserHit, rng: random.Random) -> Event: ...

    def _purchase(self, order: Order, user: dict[str, Any], custom: dict[str, Any]) -> Event:
        """The server purchase event of the platforms shaped like Meta's (Meta, Snap)."""
        return {
            "event_name": self.purchase_event,
            "event_time": order.event_time,
            "event_id": order.order_id,
            "action_source": self._action_source[order.path],
            "event_source_url": THANK_YOU_URL,
            "user_data": user,
            "custom_data": custom,
        }

    def problems(self, events: list[Event], sent_at: int) -> dict[str, str]:
        """Field path -> message for what the platform documents as rejecting a whole request."""
        return {}

    @abstractmethod
    def accepted(self, events: int, rng: random.Random) -> tuple[int, dict[str, Any]]: ...

    @abstractmethod
    def rejected(self, problems: dict[str, str], rng: random.Random) -> tuple[int, dict[str, Any]]:
        """The native failure; `problems` empty means a failure the request does not explain."""


class MetaPayloads(PlatformPayloads):
    platform = "meta"
    pixel_id = "918273645546372"
    event_names = {"page_view": "PageView", "add_to_cart": "AddToCart", "purchase": "Purchase"}
    _action_source = {"web_account": "website", "web_guest": "website", "app": "app",
                      "pos": "physical_store"}
    max_event_age_seconds = 7 * DAY_SECONDS

    def request(self, events: list[Event]) -> dict[str, Any]:
        return {"data": events}

    def server_event(self, order: Order, signals: ServerSignals) -> Event:
        session = order.session
        # Lists, as Meta's Python SDK serializes them; external_id unhashed, as the SDK sends it.
        user = _identity_lists(order, signals)
        if order.customer_id:
            user["external_id"] = [order.customer_id]
        user["client_ip_address"] = session.ip
        user["client_user_agent"] = session.user_agent
        user.update(_present(fbc=session.fbc, fbp=session.fbp))
        custom: dict[str, Any] = {"value": _value(order, signals)}
        if signals.currency:
            custom["currency"] = order.currency.lower()  # the SDK lowercases it
        if signals.order_id:
            custom["order_id"] = order.order_id
        custom.update(content_ids=[sku for sku, _ in order.items], content_type="product",
                      num_items=len(order.items))
        return self._purchase(order, user, custom)

    def browser_event(self, hit: BrowserHit, rng: random.Random) -> Event:
        order = hit.order
        event: Event = {
            "event_name": self.event_names[hit.kind],
            "event_time": hit.fired_at,
            "event_id": hit.event_id,
            "action_source": "website",
            "event_source_url": _page_url(hit),
            "user_data": {"client_user_agent": order.session.user_agent,
                          **_present(fbc=order.session.fbc, fbp=order.session.fbp)},
        }
        if hit.kind == "purchase":
            event["custom_data"] = {"value": order.total_value, "currency": order.currency,
                                    "order_id": order.order_id,
                                    "content_ids": [sku for sku, _ in order.items],
                                    "content_type": "product"}
        elif hit.kind == "add_to_cart":
            sku, price = order.items[0]
            event["custom_data"] = {"value": price, "currency": order.currency,
                                    "content_ids": [sku], "content_type": "product"}
        return event

    def problems(self, events: list[Event], sent_at: int) -> dict[str, str]:
        # One event older than 7 days fails the whole request.
        return {f"data[{i}].event_time": "more than 7 days in the past"
                for i, event in enumerate(events)
                if sent_at - event["event_time"] > self.max_event_age_seconds}

    def accepted(self, events: int, rng: random.Random) -> tuple[int, dict[str, Any]]:
        return 200, {"events_received": events, "messages": [], "fbtrace_id": ids.token(rng, 27)}

    def rejected(self, problems: dict[str, str], rng: random.Random) -> tuple[int, dict[str, Any]]:
        error: dict[str, Any] = {"message": "Invalid parameter", "type": "OAuthException",
                                 "code": 100}
        if problems:
            error.update(error_subcode=2804003, is_transient=False,
                         error_user_title="Event Timestamp Too Old",
                         error_user_msg="The timestamp for this event is too far in the past. "
                                        "Events need to be logged within the last seven days.")
        else:
            error.update(error_subcode=2804050, is_transient=False)
        error["fbtrace_id"] = ids.token(rng, 27)
        return 400, {"error": error}


class TikTokPayloads(PlatformPayloads):
    platform = "tiktok"
    pixel_id = "CQ8R4JJC77U3LVKB2M10"
    event_names = {"page_view": "ViewContent", "add_to_cart": "AddToCart",
                   "purchase": "CompletePayment"}

    def request(self, events: list[Event]) -> dict[str, Any]:
        return {"event_source": "web", "event_source_id": self.pixel_id, "data": events}

    def server_event(self, order: Order, signals: ServerSignals) -> Event:
        keys, session = order.keys, order.session
        user: dict[str, Any] = {}
        if signals.email != "none":
            user["email"] = keys.email if signals.email == "hashed" else keys.email_unnormalized
        if signals.phone != "none":
            # TikTok's integrations hash the phone as '+' and E.164 digits.
            user["phone"] = keys.phone_e164 if signals.phone == "hashed" else order.phone
        if order.customer_id:
            user["external_id"] = pii.sha256(order.customer_id)
        user.update(ip=session.ip, user_agent=session.user_agent,
                    **_present(ttclid=session.ttclid, ttp=session.ttp))
        properties: dict[str, Any] = {"value": _value(order, signals)}
        if signals.currency:
            properties["currency"] = order.currency
        if signals.order_id:
            properties["order_id"] = order.order_id
        properties.update(contents=_contents(order), content_type="product")
        return {
            "event": self.purchase_event,
            "event_time": order.event_time,
            "event_id": order.order_id,
            "user": user,
            "page": {"url": THANK_YOU_URL},
            "properties": properties,
        }

    def browser_event(self, hit: BrowserHit, rng: random.Random) -> Event:
        order = hit.order
        event: Event = {
            "event": self.event_names[hit.kind],
            "event_time": hit.fired_at,
            "event_id": hit.event_id,
            "user": {"user_agent": order.session.user_agent,
                     **_present(ttclid=order.session.ttclid, ttp=order.session.ttp)},
            "page": {"url": _page_url(hit)},
        }
        if hit.kind == "purchase":
            event["properties"] = {"value": order.total_value, "currency": order.currency,
                                   "order_id": order.order_id, "contents": _contents(order),
                                   "content_type": "product"}
        else:
            sku, price = order.items[0]
            event["properties"] = {"value": price, "currency": order.currency,
                                   "contents": [{"content_id": sku, "quantity": 1, "price": price}],
                                   "content_type": "product"}
        return event

    def accepted(self, events: int, rng: random.Random) -> tuple[int, dict[str, Any]]:
        return 200, {"code": 0, "message": "OK", "request_id": ids.token(rng, 32), "data": {}}

    def rejected(self, problems: dict[str, str], rng: random.Random) -> tuple[int, dict[str, Any]]:
        # Business errors come with HTTP 200 and a non-zero code.
        return 200, {"code": 40002, "message": "Invalid parameter",
                     "request_id": ids.token(rng, 32), "data": {}}


def _contents(order: Order) -> list[dict[str, Any]]:
    return [{"content_id": sku, "quantity": 1, "price": price} for sku, price in order.items]


class SnapPayloads(PlatformPayloads):
    platform = "snap"
    pixel_id = "6f1c2a9e-3b7d-4e58-a0c4-91d2e7b8f305"
    event_names = {"page_view": "PAGE_VIEW", "add_to_cart": "ADD_CART", "purchase": "PURCHASE"}
    _action_source = {"web_account": "WEB", "web_guest": "WEB", "app": "MOBILE_APP",
                      "pos": "OFFLINE"}

    def request(self, events: list[Event]) -> dict[str, Any]:
        return {"data": events}

    def server_event(self, order: Order, signals: ServerSignals) -> Event:
        session = order.session
        user = _identity_lists(order, signals)
        if order.customer_id:
            user["external_id"] = [pii.sha256(order.customer_id)]
        user.update(client_ip_address=session.ip, client_user_agent=session.user_agent,
                    **_present(sc_click_id=session.sc_click_id, sc_cookie1=session.scid))
        custom: dict[str, Any] = {"value": _value(order, signals)}
        if signals.currency:
            custom["currency"] = order.currency
        if signals.order_id:
            custom["order_id"] = order.order_id
        return self._purchase(order, user, custom)

    def browser_event(self, hit: BrowserHit, rng: random.Random) -> Event:
        order = hit.order
        # Snap's pixel calls the dedup key client_dedup_id; some setups still name it event_id.
        dedup_field = "client_dedup_id" if rng.random() < 0.5 else "event_id"
        event: Event = {
            "event_name": self.event_names[hit.kind],
            "event_time": hit.fired_at,
            dedup_field: hit.event_id,
            "action_source": "WEB",
            "event_source_url": _page_url(hit),
            "user_data": {"client_user_agent": order.session.user_agent,
                          **_present(sc_click_id=order.session.sc_click_id,
                                     sc_cookie1=order.session.scid)},
        }
        if hit.kind == "purchase":
            event["custom_data"] = {"value": order.total_value, "currency": order.currency,
                                    "order_id": order.order_id}
        elif hit.kind == "add_to_cart":
            sku, price = order.items[0]
            event["custom_data"] = {"value": price, "currency": order.currency,
                                    "content_ids": [sku]}
        return event

    def problems(self, events: list[Event], sent_at: int) -> dict[str, str]:
        # Documented INVALID answers: Purchase without numeric value or currency, unhashed PII.
        found: dict[str, str] = {}
        for i, event in enumerate(events):
            custom, user = event["custom_data"], event["user_data"]
            if not isinstance(custom.get("value"), int | float):
                found[f"data[{i}].custom_data.value"] = "must be a number for PURCHASE"
            if "currency" not in custom:
                found[f"data[{i}].custom_data.currency"] = "required for PURCHASE"
            for key in ("em", "ph"):
                if any(not pii.is_sha256(v) for v in user.get(key, [])):
                    found[f"data[{i}].user_data.{key}"] = "must be SHA-256 hashed"
        return found

    def accepted(self, events: int, rng: random.Random) -> tuple[int, dict[str, Any]]:
        return 200, {"status": "VALID"}

    def rejected(self, problems: dict[str, str], rng: random.Random) -> tuple[int, dict[str, Any]]:
        if problems:
            field, message = next(iter(problems.items()))
            return 400, {"status": "INVALID", "reason": f"{field} {message}", "errors": problems}
        return 400, {"status": "INVALID", "reason": "Request could not be validated",
                     "errors": {"data": "validation failed"}}


PAYLOADS: dict[str, PlatformPayloads] = {
    p.platform: p for p in (MetaPayloads(), TikTokPayloads(), SnapPayloads())
}
