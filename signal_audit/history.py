"""Every run's scorecard, kept in the warehouse it judged: `audit_history.scorecard_runs`.

The history lives beside the marts it describes, so it moves, backs up and is deleted with
the warehouse, two warehouses never share it, and analysts can ask it when a check started
failing. dbt does not own the schema: `dbt build` never drops or rebuilds it. On every target
the same table, written through the target's connection in SQL DuckDB and PostgreSQL both
speak (`double precision`, `timestamp`, named parameters).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import sqlalchemy

from signal_audit_core.targets import Target, as_target

SCHEMA = "audit_history"
TABLE = f"{SCHEMA}.scorecard_runs"

_DDL = (f"create schema if not exists {SCHEMA}", f"""
create table if not exists {TABLE} (
    run_id varchar not null,          -- one id per recorded run
    recorded_at timestamp not null,   -- when the run was recorded, UTC
    window_start date,
    window_end date,
    platform varchar not null,
    check_name varchar not null,
    status varchar not null,          -- pass, warn, fail, no_data
    metric_value double precision,
    threshold double precision,
    summary varchar
)""")


@dataclass(frozen=True)
class StatusChange:
    platform: str
    check_name: str
    previous: str
    current: str
    summary: str
    metric_value: float | None
    threshold: float | None
    window_start: dt.date | None
    window_end: dt.date | None

    @property
    def turned_failing(self) -> bool:
        return self.previous == "pass" and self.current == "fail"


def record_run(where: Target | Path, now: dt.datetime | None = None) -> list[StatusChange]:
    """Append the current scorecard to the history; return how it differs from the previous run.

    The first run of a warehouse has nothing to differ from and returns no changes. Needs
    the warehouse writable (the caller checks that it is free).
    """
    recorded_at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    with as_target(where).connect(write=True) as con:
        for statement in _DDL:
            con.execute(sqlalchemy.text(statement))
        previous = dict(
            ((platform, check), status)
            for platform, check, status in con.execute(sqlalchemy.text(f"""
                select platform, check_name, status from {TABLE}
                where run_id = (select run_id from {TABLE} order by recorded_at desc limit 1)
            """))
        )
        current = [_plain(row) for row in con.execute(sqlalchemy.text("""
            select platform, check_name, status, summary, metric_value, threshold, window_start, window_end
            from marts.rpt_signal_scorecard order by platform, check_name
        """))]
        run_id = uuid.uuid4().hex
        if current:  # (an empty scorecard records nothing)
            con.execute(
                sqlalchemy.text(f"insert into {TABLE} (run_id, recorded_at, window_start, window_end, platform, "
                                "check_name, status, metric_value, threshold, summary) values (:run_id, "
                                ":recorded_at, :ws, :we, :p, :c, :s, :m, :t, :summary)"),
                [{"run_id": run_id, "recorded_at": recorded_at, "ws": ws, "we": we, "p": p, "c": c, "s": s,
                  "m": m, "t": t, "summary": summary} for p, c, s, summary, m, t, ws, we in current],
            )
    return [
        StatusChange(p, c, previous[(p, c)], s, summary, m, t, ws, we)
        for p, c, s, summary, m, t, ws, we in current
        if (p, c) in previous and previous[(p, c)] != s
    ]


def _plain(row: sqlalchemy.Row) -> tuple:
    # PostgreSQL's numeric comes back as Decimal, DuckDB's double as float: the same run
    return tuple(float(v) if isinstance(v, Decimal) else v for v in row)
