"""The biggest causes, ranked: what the failing and warning checks are made of, in purchases.

A cause is one measurable defect on one platform (web guest checkouts never sent to Meta,
TikTok events with plaintext phone numbers, ...), counted over the audit window in the unit
it happens in: orders for order-level defects (never sent, rejected, counted twice), server
purchase events for event-level ones (no email, plaintext, late). In a typical setup one
server purchase event is one order, so the two units are comparable.

Only causes behind a check that did not pass (warn or fail) are listed: a defect the
thresholds tolerate is not what to fix first. Causes are ranked by that count, largest first
(a lost or double-counted purchase costs the same whichever check finds it); ties go to the
cause behind a failing check, then to the platform order.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from signal_audit.reporting.data import ReportData

_SEVERITY = {"fail": 0, "warn": 1, "no_data": 2, "pass": 3}


@dataclass(frozen=True)
class Cause:
    platform: str
    cause: str  # what happened, for a marketer
    impact: int  # how many, over the window
    unit: str  # "orders" or "purchase events"
    checks: tuple[str, ...]  # the scorecard checks this cause weighs on
    status: str  # the worst status among those checks (fail or warn)
    fix: str
    share: float | None = None  # impact / the platform's backend purchases in the window


def rank_causes(data: ReportData) -> list[Cause]:
    statuses = {(r.platform, r.check_name): r.status for r in data.scorecard.itertuples()}
    backend = _by_platform(data.waterfall, "backend_purchases")
    order = {p: i for i, p in enumerate(data.platforms)}
    found: list[Cause] = []

    def add(platform: str, cause: str, impact: float | None, unit: str, checks: tuple[str, ...], fix: str) -> None:
        if impact is None or pd.isna(impact) or impact <= 0:
            return
        worst = min((statuses.get((platform, c), "no_data") for c in checks), key=_SEVERITY.__getitem__)
        if worst not in ("fail", "warn"):
            return
        total = backend.get(platform)
        found.append(Cause(platform, cause, int(impact), unit, checks, worst, fix,
                           impact / total if total else None))

    for row in data.never_sent_by_path.itertuples():
        name = data.name(row.platform)
        add(row.platform, f"{_capital(row.label)} never sent to {name} by your server", row.orders_never_sent,
            "orders", ("conversion_gap",), f"Send {row.label} to {name} from your server.")
    for row in data.waterfall.itertuples():
        name = data.name(row.platform)
        add(row.platform, f"Orders sent to {name} but rejected", row.orders_rejected, "orders",
            ("conversion_gap",), f"Read {name}'s error responses in the delivery log and fix the payload.")
        add(row.platform, f"Orders {name} counts twice (pixel and server events without a shared event_id)",
            row.double_counted_orders, "orders", ("conversion_gap", "deduplication"),
            "Send the same event_id (the order id) from the pixel and the server.")
    minutes = float(data.settings.get("latency_threshold_seconds", 3600)) / 60  # type: ignore[arg-type]
    for row in data.event_findings.itertuples():
        name = data.name(row.platform)
        add(row.platform, f"{name} purchase events without a valid hashed email", row.events_without_email,
            "purchase events", ("email_coverage", "match_quality"),
            "Send the customer's email, trimmed, lowercased and SHA-256 hashed, with every purchase.")
        add(row.platform, f"{name} events with customer data in plaintext", row.plaintext_pii_events,
            "purchase events", ("pii_hashing",), "Normalize and SHA-256 hash every must-hash key before sending.")
        add(row.platform, f"{name} events whose email or phone hash differs from your backend's",
            row.hash_mismatch_events, "purchase events", ("email_coverage", "match_quality"),
            "Normalize (trim, lowercase, E.164 phones) before hashing.")
        add(row.platform, f"{name} purchase events sent more than {minutes:.0f} minutes after the order",
            row.late_events, "purchase events", ("timeliness",), "Send purchases as they happen, not in batches.")
        add(row.platform, f"{name} purchase events too old for {name} to accept when sent", row.events_too_old,
            "purchase events", ("timeliness",), "Send purchases within the platform's event-age limit.")
    for row in data.field_validity.itertuples():
        name = data.name(row.platform)
        add(row.platform, f"{name} purchase events with {row.field_name} missing or invalid", row.events_invalid,
            "purchase events", ("field_coverage",), f"Send a valid {row.field_name} with every purchase.")

    return sorted(found, key=lambda c: (-c.impact, _SEVERITY[c.status], order.get(c.platform, 99), c.cause))


def _by_platform(frame: pd.DataFrame, column: str) -> dict[str, float]:
    if frame.empty:
        return {}
    return {p: float(v) for p, v in zip(frame.platform, frame[column], strict=True) if pd.notna(v)}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
