"""What the report shows, read from the marts (read-only) over the audit window, on any target
(its SQLAlchemy connection, signal_audit_core/targets.py).

Every number here is a mart's: the window-level figures (the gap waterfall, the ranked
causes, the key coverage) are rpt_ models, the daily series are the daily marts' rows of the
scorecard's audit window. Nothing is summed, divided or ranked here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy

from signal_audit.reporting.checks import Check, read_checks
from signal_audit_core.targets import Target, as_target


class MartsMissing(RuntimeError):
    """The warehouse exists but the marts were never built."""


@dataclass(frozen=True)
class ReportData:
    window_start: dt.date | None
    window_end: dt.date | None
    platforms: tuple[str, ...]  # in the order of the `platforms` setting
    display_names: dict[str, str]
    settings: dict[str, object]  # setting name -> value in force (audit_settings)
    checks: tuple[Check, ...]  # the checks seed, in display order
    scorecard: pd.DataFrame  # rpt_signal_scorecard: platform, check_name, status, metric_value, threshold, summary
    causes: pd.DataFrame  # rpt_check_causes, in cause_rank order
    waterfall: pd.DataFrame  # rpt_gap_waterfall: platform, step_order, step, labels, step_kind, orders, orders_change
    key_coverage: pd.DataFrame  # rpt_match_key_coverage: platform, match_key, key_order, events, coverage_pct, ...
    gap_daily: pd.DataFrame  # fct_conversion_gap_daily in the window
    dedup_daily: pd.DataFrame  # fct_dedup_daily in the window
    latency_daily: pd.DataFrame  # fct_event_latency_daily in the window (delays in minutes)

    @property
    def has_data(self) -> bool:
        return self.window_end is not None and not self.scorecard.empty

    def name(self, platform: str) -> str:
        return self.display_names.get(platform, platform.title())

    def check(self, check_name: str) -> Check | None:
        return next((c for c in self.checks if c.name == check_name), None)

    def title(self, check_name: str) -> str:
        check = self.check(check_name)
        return check.title if check else check_name

    def check_order(self) -> list[str]:
        """The scorecard's checks in the seed's display order (any the seed lacks last)."""
        present = set(self.scorecard.check_name)
        listed = [c.name for c in self.checks if c.name in present]
        return listed + sorted(present - set(listed))


def cause_checks(cause: object) -> str:
    """The checks a cause (a row of rpt_check_causes) weighs on: "conversion_gap, deduplication"."""
    also, first = getattr(cause, "also_check_name", None), str(cause.check_name)  # type: ignore[attr-defined]
    return first if also is None or pd.isna(also) else f"{first}, {also}"


@contextmanager
def reading_marts(where: Target | Path) -> Iterator[sqlalchemy.Connection]:
    """A read-only connection to the target's marts; a table the build has not made yet is
    MartsMissing (one sentence), whichever engine says so in its own words."""
    target = as_target(where)
    with target.connect() as con:
        try:
            yield con
        except sqlalchemy.exc.ProgrammingError as exc:
            if not _missing_table(exc):
                raise
            raise MartsMissing(f"the warehouse {target.label} has no audit tables yet: run `signal-audit run` "
                               "(or `build`) first") from exc


def _missing_table(exc: sqlalchemy.exc.DBAPIError) -> bool:
    # DuckDB: CatalogException "Table with name ... does not exist"; PostgreSQL: 42P01/3F000
    text = str(exc.orig).lower()
    return (type(exc.orig).__name__ in ("CatalogException", "UndefinedTable", "InvalidSchemaName")
            or "does not exist" in text)


def rows(con: sqlalchemy.Connection, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """The rows of a query (named parameters: `:start`), as tuples."""
    return [tuple(row) for row in con.execute(sqlalchemy.text(sql), dict(params or {}))]


def frame(con: sqlalchemy.Connection, sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A query as a DataFrame; exact decimals (PostgreSQL's numeric) as floats, as DuckDB's doubles."""
    return pd.read_sql(sqlalchemy.text(sql), con, params=dict(params or {}), coerce_float=True)


def load_report_data(where: Target | Path) -> ReportData:
    with reading_marts(where) as con:
        return _load(con)


def _load(con: sqlalchemy.Connection) -> ReportData:
    def df(sql: str, params: Mapping[str, Any] | None = None) -> pd.DataFrame:
        return frame(con, sql, params)

    settings = {name: json.loads(value) for name, value in rows(
        con, "select setting_name, setting_json from marts.audit_settings")}
    start, end = rows(con, "select min(window_start), max(window_end) from marts.rpt_signal_scorecard")[0]
    scorecard = df("select platform, check_name, status, metric_value, threshold, summary "
                   "from marts.rpt_signal_scorecard")
    listed = [p for p in settings.get("platforms", []) if p in set(scorecard.platform)]
    platforms = tuple(listed + sorted(set(scorecard.platform) - set(listed)))
    display_names = dict(rows(con, "select platform, display_name from reference.platforms"))

    def daily(table: str, columns: str) -> pd.DataFrame:
        # the window's rows, as the mart holds them (no window: no orders, nothing to show)
        return df(f"select {columns} from marts.{table} where report_date between :start and :end "
                  "order by platform, report_date", {"start": start, "end": end})

    return ReportData(
        window_start=start, window_end=end, platforms=platforms, display_names=display_names,
        settings=settings, checks=read_checks(con), scorecard=scorecard,
        causes=df("select * from marts.rpt_check_causes order by cause_rank"),
        waterfall=df("select * from marts.rpt_gap_waterfall order by platform, step_order"),
        key_coverage=df("select * from marts.rpt_match_key_coverage order by platform, match_key"),
        gap_daily=daily("fct_conversion_gap_daily", "report_date, platform, backend_purchases, "
                        "orders_sent_by_server, orders_accepted, platform_reported_purchases, gap_pct, status"),
        dedup_daily=daily("fct_dedup_daily", "report_date, platform, dedup_rate, orders_with_both, "
                          "matching_event_id_orders, double_count_risk_orders"),
        latency_daily=daily("fct_event_latency_daily", "report_date, platform, server_purchase_events, "
                            "events_with_order, p50_latency_seconds / 60.0 as p50_latency_minutes, "
                            "p95_latency_seconds / 60.0 as p95_latency_minutes, within_threshold_pct, "
                            "events_too_old"),
    )
