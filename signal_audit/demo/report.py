"""The platforms' daily reports: what each platform says it received, deduplicated and matched."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass

from signal_audit.demo.delivery import EventFact
from signal_audit.demo.payloads import PAYLOADS

REPORT_COLUMNS = (
    "date", "platform", "pixel_id", "event_name", "events_received", "events_deduplicated",
    "events_matched", "match_quality_score",
)


@dataclass(frozen=True)
class ReportRow:
    date: dt.date
    platform: str
    pixel_id: str
    event_name: str
    events_received: int
    events_deduplicated: int
    match_quality_score: float | None  # Meta purchases only

    def csv_row(self) -> dict[str, str]:
        return {
            "date": self.date.isoformat(),
            "platform": self.platform,
            "pixel_id": self.pixel_id,
            "event_name": self.event_name,
            "events_received": str(self.events_received),
            "events_deduplicated": str(self.events_deduplicated),
            "events_matched": "",
            "match_quality_score": "" if self.match_quality_score is None
            else f"{self.match_quality_score:.1f}",
        }


def match_quality_score(events: list[EventFact]) -> float | None:
    """A plausible 0-10 EMQ from the share of events with a matchable email and phone.

    Meta publishes no weights; only correctly normalized hashes can match, so unnormalized
    emails and plaintext phones lower the score like they do on the platform.
    """
    if not events:
        return None
    email = sum(e.has_email and not e.unnormalized_email for e in events) / len(events)
    phone = sum(e.has_phone and not e.plaintext_phone for e in events) / len(events)
    return round(2.5 + 5.0 * email + 2.5 * phone, 1)


def platform_report(platform: str, facts: list[EventFact], days: list[dt.date]) -> list[ReportRow]:
    """One row per day in range and event name; events outside the range are not reported."""
    payloads = PAYLOADS[platform]
    received: Counter[tuple[dt.date, str]] = Counter()
    deduplicated: Counter[tuple[dt.date, str]] = Counter()
    matchable: defaultdict[dt.date, list[EventFact]] = defaultdict(list)
    for fact in facts:
        if not fact.accepted:
            continue
        day = fact.event_time.date()
        received[day, fact.event_name] += 1
        deduplicated[day, fact.event_name] += fact.deduplicated
        if fact.channel == "server" and fact.is_purchase:
            matchable[day].append(fact)
    rows = []
    for day in days:
        for name in payloads.event_names.values():
            score = None
            if platform == "meta" and name == payloads.purchase_event:
                score = match_quality_score(matchable[day])
            rows.append(ReportRow(day, platform, payloads.pixel_id, name, received[day, name],
                                  deduplicated[day, name], score))
    return rows
