"""What the report shows, read from the marts (read-only) over the audit window.

Every number here is a sum over the window that `rpt_signal_scorecard` was judged on, so the
charts and the scorecard never disagree about which days count.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from signal_audit.warehouse import read_only

CHECK_ORDER = (
    "conversion_gap", "match_quality", "email_coverage", "field_coverage",
    "deduplication", "timeliness", "pii_hashing",
)


class MartsMissing(RuntimeError):
    """The warehouse exists but the marts were never built."""


@dataclass(frozen=True)
class ReportData:
    window_start: dt.date | None
    window_end: dt.date | None
    platforms: tuple[str, ...]  # in the order of the `platforms` setting
    display_names: dict[str, str]
    settings: dict[str, object]  # setting name -> value in force (audit_settings)
    scorecard: pd.DataFrame  # platform, check_name, status, metric_value, threshold, summary
    gap_daily: pd.DataFrame  # report_date, platform, backend_purchases, platform_reported_purchases, gap_pct, status
    waterfall: pd.DataFrame  # one row per platform: the steps from backend to platform-counted
    never_sent_by_path: pd.DataFrame  # platform, purchase_path, label, orders_never_sent, orders_rejected
    key_coverage: pd.DataFrame  # platform, match_key, events, events_with_key, coverage_pct
    dedup_daily: pd.DataFrame  # report_date, platform, dedup_rate, orders_with_both, double_count_risk_orders
    latency_daily: pd.DataFrame  # report_date, platform, p50/p95 minutes, within_threshold_pct, events_too_old
    field_validity: pd.DataFrame  # platform, field_name, events, events_invalid (required purchase fields)
    event_findings: pd.DataFrame  # platform, purchase events, without email, plaintext, mismatch, too old, late

    @property
    def has_data(self) -> bool:
        return self.window_end is not None and not self.scorecard.empty

    def name(self, platform: str) -> str:
        return self.display_names.get(platform, platform.title())


def load_report_data(warehouse: Path) -> ReportData:
    con = read_only(warehouse)
    try:
        return _load(con)
    except duckdb.CatalogException as exc:
        raise MartsMissing(
            f"the warehouse {warehouse} has no audit tables yet: run `signal-audit run` (or `build`) first"
        ) from exc
    finally:
        con.close()


def _load(con: duckdb.DuckDBPyConnection) -> ReportData:
    df = lambda sql, params=None: con.execute(sql, params or []).df()  # noqa: E731

    settings = {name: json.loads(value) for name, value in con.execute(
        "select setting_name, setting_json from marts.audit_settings").fetchall()}
    window = con.execute("select min(window_start), max(window_end) from marts.rpt_signal_scorecard").fetchone()
    start, end = window if window else (None, None)
    scorecard = df("""
        select platform, check_name, status, metric_value, threshold, summary
        from marts.rpt_signal_scorecard
    """)
    listed = [p for p in settings.get("platforms", []) if p in set(scorecard.platform)]
    platforms = tuple(listed + sorted(set(scorecard.platform) - set(listed)))
    display_names = dict(con.execute("select platform, display_name from reference.platforms").fetchall())
    if start is None:
        start = end = dt.date.today()  # no orders: every frame below is empty
        empty_window = True
    else:
        empty_window = False
    w = [start, end]

    gap_daily = df("""
        select report_date, platform, backend_purchases, orders_sent_by_server, orders_accepted,
               platform_reported_purchases, gap_pct, status
        from marts.fct_conversion_gap_daily
        where report_date between ? and ?
        order by platform, report_date
    """, w)

    # Backend -> sent -> accepted, then what the platform adds back: purchases it learned
    # through the pixel only (the server never delivered them), and orders it counts twice
    # because pixel and server events don't share an event_id. The rest is the platform's own
    # difference (events for orders that don't count, reporting-day shifts): shown, not hidden.
    waterfall = df("""
        with orders as (
            select
                platform,
                count(*) as backend_purchases,
                sum(case when not is_sent_by_server then 1 else 0 end) as orders_never_sent,
                sum(case when is_sent_by_server and not is_accepted then 1 else 0 end) as orders_rejected,
                sum(case when is_accepted then 1 else 0 end) as orders_accepted,
                sum(case when not is_accepted and browser_purchase_events > 0 then 1 else 0 end) as pixel_only_orders
            from intermediate.int_order_deliveries
            where is_counted_purchase and created_date between ? and ?
            group by platform
        ),
        dedup as (
            select platform, sum(double_count_risk_orders) as double_counted_orders
            from marts.fct_dedup_daily where report_date between ? and ?
            group by platform
        ),
        reported as (
            select platform, sum(platform_reported_purchases) as platform_counted
            from marts.fct_conversion_gap_daily where report_date between ? and ?
            group by platform
        )
        select
            orders.*,
            coalesce(dedup.double_counted_orders, 0) as double_counted_orders,
            reported.platform_counted
        from orders
        left join dedup using (platform)
        left join reported using (platform)
    """, w * 3)
    if not waterfall.empty:
        waterfall["other_difference"] = (
            waterfall.platform_counted - waterfall.orders_accepted
            - waterfall.pixel_only_orders - waterfall.double_counted_orders
        )

    never_sent_by_path = df("""
        select
            gap.platform,
            gap.purchase_path,
            coalesce(paths.label, gap.purchase_path) as label,
            sum(gap.backend_purchases) as backend_purchases,
            sum(gap.backend_purchases - gap.orders_sent_by_server) as orders_never_sent,
            sum(gap.orders_sent_by_server - gap.orders_accepted) as orders_rejected
        from marts.fct_conversion_gap_by_path as gap
        left join reference.purchase_paths as paths on gap.purchase_path = paths.purchase_path
        where gap.report_date between ? and ?
        group by gap.platform, gap.purchase_path, paths.label
        order by gap.platform, orders_never_sent desc
    """, w)

    purchase = """
        (platform, lower(event_name)) in (
            select platform, lower(event_name) from reference.purchase_event_names)
    """
    key_coverage = df(f"""
        select
            platform,
            match_key,
            sum(events) as events,
            sum(events_with_key) as events_with_key,
            1.0 * sum(events_with_key) / nullif(sum(events), 0) as coverage_pct
        from marts.fct_match_key_coverage_daily
        where report_date between ? and ? and {purchase}
        group by platform, match_key
    """, w)

    dedup_daily = df("""
        select report_date, platform, dedup_rate, orders_with_both, matching_event_id_orders,
               double_count_risk_orders
        from marts.fct_dedup_daily
        where report_date between ? and ?
        order by platform, report_date
    """, w)

    latency_daily = df("""
        select report_date, platform, server_purchase_events, events_with_order,
               p50_latency_seconds / 60.0 as p50_latency_minutes,
               p95_latency_seconds / 60.0 as p95_latency_minutes,
               within_threshold_pct, events_too_old
        from marts.fct_event_latency_daily
        where report_date between ? and ?
        order by platform, report_date
    """, w)

    field_validity = df(f"""
        select platform, field_name, sum(events) as events, sum(events - events_valid) as events_invalid
        from marts.fct_field_coverage_daily
        where report_date between ? and ? and requirement = 'required' and {purchase}
        group by platform, field_name
    """, w)

    event_findings = df(f"""
        with quality as (
            select platform,
                   sum(events) as purchase_events,
                   sum(events - round(email_coverage_pct * events)) as events_without_email,
                   sum(unhashed_pii_events) as plaintext_pii_events,
                   sum(hash_mismatch_events) as hash_mismatch_events
            from marts.fct_match_quality_daily
            where report_date between ? and ? and {purchase}
            group by platform
        ),
        latency as (
            select platform,
                   sum(events_too_old) as events_too_old,
                   sum(events_with_order - round(coalesce(within_threshold_pct, 1) * events_with_order)) as late_events
            from marts.fct_event_latency_daily
            where report_date between ? and ?
            group by platform
        )
        select quality.*, latency.events_too_old, latency.late_events
        from quality full join latency using (platform)
    """, w * 2)

    if empty_window:
        start = end = None
    return ReportData(
        window_start=start, window_end=end, platforms=platforms, display_names=display_names,
        settings=settings, scorecard=scorecard, gap_daily=gap_daily, waterfall=waterfall,
        never_sent_by_path=never_sent_by_path, key_coverage=key_coverage, dedup_daily=dedup_daily,
        latency_daily=latency_daily, field_validity=field_validity, event_findings=event_findings,
    )
