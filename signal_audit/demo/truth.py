"""The figures the marts must show for a generated shop, known from how it was generated."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from signal_audit.demo.delivery import EventFact
from signal_audit.demo.orders import Order
from signal_audit.demo.payloads import PAYLOADS
from signal_audit.demo.profiles import PATHS, ShopConfig
from signal_audit.demo.report import ReportRow

# The contract's defaults: a 30-day audit window ending on the last order day, 10% gap threshold.
AUDIT_WINDOW_DAYS = 30
GAP_THRESHOLD = 0.10


@dataclass(frozen=True)
class PathTruth:
    backend_purchases: int
    orders_sent_by_server: int
    orders_accepted: int


@dataclass(frozen=True)
class DayTruth:
    report_date: dt.date
    platform: str
    backend_purchases: int
    orders_sent_by_server: int
    orders_accepted: int
    platform_reported_purchases: int
    by_path: dict[str, PathTruth]


@dataclass(frozen=True)
class WindowTruth:
    platform: str
    window_start: dt.date
    window_end: dt.date
    backend_purchases: int
    platform_reported_purchases: int
    gap_pct: float | None
    conversion_gap_status: str  # pass, fail, or no_data without backend purchases


@dataclass(frozen=True)
class Truth:
    config: ShopConfig
    days: dict[tuple[dt.date, str], DayTruth]  # (report_date, platform)
    window: dict[str, WindowTruth]
    events: list[EventFact]

    def day(self, report_date: dt.date, platform: str) -> DayTruth:
        return self.days[report_date, platform]

    def to_json(self) -> dict[str, Any]:
        return {
            "config": _jsonable(dataclasses.asdict(self.config)),
            "window": {p: _jsonable(dataclasses.asdict(w)) for p, w in self.window.items()},
            "days": [_jsonable(dataclasses.asdict(d)) for d in self.days.values()],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return sorted(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def compute_truth(config: ShopConfig, orders: list[Order], events: list[EventFact],
                  report: list[ReportRow]) -> Truth:
    """From generation decisions (orders, event facts) and the report rows as written."""
    dates = config.dates
    backend: Counter[tuple[dt.date, str]] = Counter()
    order_key = {}
    for order in orders:
        if order.counted:
            key = (order.created_at.date(), order.path)
            backend[key] += 1
            order_key[order.order_id] = key

    reported: Counter[tuple[dt.date, str]] = Counter()
    for row in report:
        if row.event_name == PAYLOADS[row.platform].purchase_event:
            reported[row.date, row.platform] += row.events_received - row.events_deduplicated

    days: dict[tuple[dt.date, str], DayTruth] = {}
    window: dict[str, WindowTruth] = {}
    window_start = max(config.start_date, config.end_date - dt.timedelta(AUDIT_WINDOW_DAYS - 1))
    for platform in config.platform_names:
        server = [e for e in events if e.platform == platform and e.channel == "server"]
        sent = Counter(order_key[o] for o in {e.order_id for e in server})
        accepted = Counter(order_key[o] for o in {e.order_id for e in server if e.accepted})
        for date in dates:
            by_path = {path: PathTruth(backend[date, path], sent[date, path], accepted[date, path])
                       for path in PATHS}
            days[date, platform] = DayTruth(
                report_date=date, platform=platform,
                backend_purchases=sum(p.backend_purchases for p in by_path.values()),
                orders_sent_by_server=sum(p.orders_sent_by_server for p in by_path.values()),
                orders_accepted=sum(p.orders_accepted for p in by_path.values()),
                platform_reported_purchases=reported[date, platform],
                by_path=by_path,
            )
        in_window = [days[d, platform] for d in dates if d >= window_start]
        b = sum(d.backend_purchases for d in in_window)
        r = sum(d.platform_reported_purchases for d in in_window)
        gap = (b - r) / b if b else None
        window[platform] = WindowTruth(
            platform=platform, window_start=window_start, window_end=config.end_date,
            backend_purchases=b, platform_reported_purchases=r, gap_pct=gap,
            conversion_gap_status="no_data" if gap is None
            else "pass" if abs(gap) < GAP_THRESHOLD else "fail",
        )
    return Truth(config=config, days=days, window=window, events=events)
