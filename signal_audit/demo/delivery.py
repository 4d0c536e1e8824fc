"""What the shop's tracking sends to one platform, and what the platform does with it.

Each platform draws from its own seeded streams (browser and server apart), so changing one
platform's defects never changes the orders or another platform's traffic.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any, Literal

from signal_audit.demo import ids
from signal_audit.demo.orders import Order
from signal_audit.demo.payloads import (
    DAY_SECONDS,
    PAYLOADS,
    BrowserHit,
    PlatformPayloads,
    ServerSignals,
)
from signal_audit.demo.profiles import PlatformDefects

DEDUP_WINDOW_SECONDS = 48 * 3600


@dataclass(frozen=True)
class EventFact:
    """One event as generated: enough to derive any expected audit figure by counting."""

    platform: str
    channel: Literal["server", "browser"]
    order_id: str | None  # the order it belongs to; None for non-purchase browser events
    purchase_path: str | None
    event_id: str
    event_name: str
    is_purchase: bool
    accepted: bool  # server: the request succeeded; browser events are always received
    event_time: dt.datetime
    sent_at: dt.datetime
    # A browser purchase the platform merged into the order's accepted server event (same event
    # name and id, received within 48 hours): the one events_deduplicated counts, on its day.
    deduplicated: bool = False
    # Defects as applied to a server event (always False on browser events).
    late: bool = False
    has_email: bool = False  # carries an email value (a valid-looking hash, maybe unnormalized)
    has_phone: bool = False  # carries a phone value, hashed or plaintext
    unnormalized_email: bool = False  # the email hash differs from the normalized one
    plaintext_phone: bool = False
    missing_currency: bool = False
    string_value: bool = False
    order_id_omitted: bool = False


@dataclass(frozen=True)
class LogLine:
    sent_at: int  # unix seconds, the sort key of the log
    record: dict[str, Any]


@dataclass
class Delivery:
    lines: list[LogLine] = field(default_factory=list)
    facts: list[EventFact] = field(default_factory=list)


def _utc(ts: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def _iso(ts: int) -> str:
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def deliver(platform: str, defects: PlatformDefects, orders: list[Order], seed: int) -> Delivery:
    """Browser and server traffic of one platform, with the platform's verdict on each event."""
    payloads = PAYLOADS[platform]
    delivery = Delivery()

    def stream(name: str) -> random.Random:
        return random.Random(f"{seed}:{platform}:{name}")

    hits = _browser_hits(defects, orders, stream("browser"))
    merged = _send_server(payloads, defects, orders, stream("server"), hits, delivery)
    _record_browser(payloads, hits, merged, stream("pixel"), delivery)
    return delivery


def _browser_hits(defects: PlatformDefects, orders: list[Order],
                  rng: random.Random) -> list[BrowserHit]:
    """Pixel fires on web orders of every status: the thank-you page loads before any cancel."""
    hits = []
    for order in orders:
        if not order.is_web or rng.random() >= defects.browser_rate:
            continue  # no pixel in the app or the store; blockers stop the rest
        t = order.event_time
        hits.append(BrowserHit("page_view", order, ids.uuid(rng), t - rng.randint(120, 1800)))
        hits.append(BrowserHit("add_to_cart", order, ids.uuid(rng), t - rng.randint(20, 110)))
        # A broken setup lets the pixel make up its own eventID instead of the order id.
        event_id = ids.uuid(rng) if rng.random() < defects.dedup_mismatch_rate else order.order_id
        hits.append(BrowserHit("purchase", order, event_id, t + rng.randint(1, 5)))
    return hits


def _signals(order: Order, defects: PlatformDefects, rng: random.Random) -> ServerSignals:
    email = "none"
    if order.email and rng.random() < defects.email_rate:
        email = "unnormalized" if rng.random() < defects.unnormalized_email_rate else "hashed"
    phone = "none"
    if order.phone and rng.random() < defects.phone_rate:
        phone = "plaintext" if rng.random() < defects.plaintext_phone_rate else "hashed"
    return ServerSignals(
        email=email,
        phone=phone,
        currency=rng.random() >= defects.missing_currency_rate,
        string_value=rng.random() < defects.string_value_rate,
        order_id=rng.random() >= defects.omit_order_id_rate,
    )


def _send_server(payloads: PlatformPayloads, defects: PlatformDefects, orders: list[Order],
                 rng: random.Random, browser_hits: list[BrowserHit],
                 delivery: Delivery) -> set[tuple[str, str]]:
    """Server purchase events of counted orders, batched; returns the browser keys merged away."""
    browser_purchases = {(payloads.purchase_event, h.event_id): h.fired_at
                         for h in browser_hits if h.kind == "purchase"}
    sent = [o for o in orders
            if o.counted and o.path not in defects.skip_server_paths
            and rng.random() >= defects.server_skip_rate]
    merged: set[tuple[str, str]] = set()
    for start in range(0, len(sent), defects.batch_size):
        batch = sent[start:start + defects.batch_size]
        signals = [_signals(order, defects, rng) for order in batch]
        late = rng.random() < defects.late_rate
        delay = rng.randint(2 * DAY_SECONDS, 10 * DAY_SECONDS) if late else rng.randint(5, 300)
        sent_at = batch[-1].event_time + delay  # orders are in time order: the last is the latest
        events = [payloads.server_event(o, s) for o, s in zip(batch, signals, strict=True)]
        problems = payloads.problems(events, sent_at)
        accepted = rng.random() >= defects.server_reject_rate and not problems
        status, response = (payloads.accepted(len(events), rng) if accepted
                            else payloads.rejected(problems, rng))
        delivery.lines.append(LogLine(sent_at, {
            "platform": payloads.platform, "channel": "server", "pixel_id": payloads.pixel_id,
            "sent_at": _iso(sent_at), "http_status": status,
            "request": payloads.request(events), "response": response,
        }))
        for order, s in zip(batch, signals, strict=True):
            key = (payloads.purchase_event, order.order_id)  # server event_id is the order id
            fired_at = browser_purchases.get(key)
            if (accepted and fired_at is not None
                    and abs(sent_at - fired_at) <= DEDUP_WINDOW_SECONDS):
                merged.add(key)
            delivery.facts.append(EventFact(
                platform=payloads.platform, channel="server", order_id=order.order_id,
                purchase_path=order.path, event_id=order.order_id,
                event_name=payloads.purchase_event, is_purchase=True, accepted=accepted,
                event_time=order.created_at, sent_at=_utc(sent_at), late=late,
                has_email=s.email != "none", has_phone=s.phone != "none",
                unnormalized_email=s.email == "unnormalized"
                and order.keys.email_unnormalized != order.keys.email,
                plaintext_phone=s.phone == "plaintext", missing_currency=not s.currency,
                string_value=s.string_value, order_id_omitted=not s.order_id,
            ))
    return merged


def _record_browser(payloads: PlatformPayloads, hits: list[BrowserHit],
                    merged: set[tuple[str, str]], rng: random.Random, delivery: Delivery) -> None:
    for hit in hits:
        event = payloads.browser_event(hit, rng)
        purchase = hit.kind == "purchase"
        name = payloads.event_names[hit.kind]
        delivery.lines.append(LogLine(hit.fired_at, {
            "platform": payloads.platform, "channel": "browser", "pixel_id": payloads.pixel_id,
            "sent_at": _iso(hit.fired_at), "request": payloads.request([event]),
        }))
        delivery.facts.append(EventFact(
            platform=payloads.platform, channel="browser",
            order_id=hit.order.order_id if purchase else None,
            purchase_path=hit.order.path if purchase else None,
            event_id=hit.event_id, event_name=name, is_purchase=purchase, accepted=True,
            event_time=_utc(hit.fired_at), sent_at=_utc(hit.fired_at),
            deduplicated=purchase and (name, hit.event_id) in merged,
        ))
