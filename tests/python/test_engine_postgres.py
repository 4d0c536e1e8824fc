"""The same audit on PostgreSQL as on DuckDB: every mart and report table, row for row.

A generated shop's files land twice with the same command, `signal-audit load`: in a DuckDB
file, and with `--target postgres` in a real PostgreSQL server (tests/python/fakes/postgres.py)
through dlt's postgres destination, the connection given as a user gives it (dlt's
DESTINATION__POSTGRES__CREDENTIALS__* variables). `signal-audit build --target postgres`
builds the project there; the DuckDB warehouse is built as the audit builds it. Every table of
models/marts/** and models/scorecard/** must then hold the same rows on both engines (floats
to 1e-9, sentences exactly), after a full build and again after one more day landed and built
incrementally, with the reporting time zone UTC and America/Los_Angeles (the shop spans the
end of daylight saving time there, on 2026-11-01; PostgreSQL's session time zone is the
reporting one, so nothing may lean on it). Meta's Graph API (a local fake) adds a Dataset
Quality snapshot and pixel stats per day, so the JSON read in staging runs on both engines;
the loads' clock is pinned to the shop's days so those snapshots fall in the audit window.
dbt's unit tests run once on PostgreSQL, after the first build in UTC.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import pytest
from audit_harness import build
from engines_helpers import differences, postgres_env, report_tables, run_dbt, signal_audit_cli, write_settings
from fakes.meta import FakeGraph, quality_event
from fakes.postgres import USER, PostgresServer, postgres_server
from test_incremental import split_by_day

from signal_audit.demo import generate_shop, preset
from signal_audit_core.config import InputsConfig

pytestmark = pytest.mark.slow
pytest.importorskip("dbt.adapters.postgres", reason="dbt-postgres is not installed (pyproject's test extra)")

LAST_DAY = dt.date(2026, 11, 3)
META_PIXEL = "918273645546372"  # the demo shop's (signal_audit/demo/payloads.py)
TOKEN = "EAAB" + "x7" * 40


@pytest.fixture(scope="module")
def server() -> PostgresServer:
    with postgres_server() as running:
        yield running


def assert_same_reports(warehouse: Path, pg_url: str) -> dict:
    import duckdb
    import psycopg2

    duck = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = report_tables(duck, "DuckDB")
    finally:
        duck.close()
    pg = psycopg2.connect(pg_url)
    try:
        got = report_tables(pg, "PostgreSQL")
    finally:
        pg.close()
    diff = differences(expected, got, ("DuckDB", "PostgreSQL"))
    assert not diff, "PostgreSQL's marts differ from DuckDB's:\n" + "\n".join(diff[:20])
    return got


def input_args(inputs: InputsConfig) -> list[str]:
    return ["--orders", *inputs.orders, "--delivery-log", *inputs.delivery_log,
            "--platform-reports", *inputs.platform_reports]


@pytest.mark.parametrize("timezone", ["UTC", "America/Los_Angeles"])
def test_postgres_builds_the_same_marts_as_duckdb(
    tmp_path: Path, server: PostgresServer, timezone: str, monkeypatch: pytest.MonkeyPatch
):
    shop = tmp_path / "shop"
    generate_shop(preset("broken", days=12, orders_per_day=40, end_date=LAST_DAY), shop)
    first, everything = split_by_day(shop, tmp_path / "split", last_day=LAST_DAY.isoformat())
    warehouse = tmp_path / "duckdb" / "audit.duckdb"
    database = server.create_database("audit_" + timezone.lower().replace("/", "_"))
    # the connection as a user gives it (dlt's env vars); the session's time zone the reporting one
    pg_env = {**postgres_env(server.port, server.password, database), "PGTZ": timezone}
    # dlt's state and the run lock of the postgres target live beside this (unused) file
    pg_home = ["--target", "postgres", "--warehouse", str(tmp_path / "postgres" / "audit.duckdb")]
    audit_vars = {"reporting_timezone": timezone}
    monkeypatch.setenv("SOURCES__META__ACCESS_TOKEN", TOKEN)

    with FakeGraph(TOKEN) as graph:
        settings = write_settings(tmp_path / "signal_audit.yml", graph.url, META_PIXEL, audit_vars)
        for day, inputs in enumerate((first, everything)):
            # Meta's snapshot and pixel stats of the day the load runs
            fetched = dt.datetime.combine(LAST_DAY, dt.time(12, 30), dt.UTC) - dt.timedelta(days=1 - day)
            graph.quality[META_PIXEL] = [quality_event("Purchase", 6.5 + day, email=85.5 + day),
                                         quality_event("AddToCart", 5.25)]
            graph.stats[META_PIXEL] = {fetched - dt.timedelta(hours=h): {"Purchase": 10 + h, "PageView": 90 + h}
                                       for h in range(1, 4)}

            # the same command on the same files, into both engines at once
            load = ["load", "--config", str(settings), *input_args(inputs)]
            with ThreadPoolExecutor(max_workers=1) as other:
                into_postgres = other.submit(signal_audit_cli, [*load, *pg_home], pg_env, tmp_path, fetched)
                into_duckdb = signal_audit_cli([*load, "--target", "duckdb", "--warehouse", str(warehouse)],
                                               {}, tmp_path, fetched)
                landed = into_postgres.result()
            assert f"into postgres://{USER}@127.0.0.1:{server.port}/{database}" in landed.stdout
            # the same rows read, loaded and rejected, source by source
            counts = [[line for line in done.stdout.splitlines() if " rows read, " in line]
                      for done in (into_duckdb, landed)]
            assert counts[0] == counts[1] and len(counts[0]) >= 4, counts

            def on_postgres(day: int = day) -> str:
                built = signal_audit_cli(["build", "--config", str(settings), *pg_home], pg_env, tmp_path)
                if day == 0 and timezone == "UTC":  # dbt's unit tests once (they read no data)
                    run_dbt(["test", "--target", "postgres", "--select", "test_type:unit",
                             "--vars", json.dumps({**audit_vars, "gate_on": "none"})], pg_env, tmp_path / "target")
                return built.stdout

            # both engines build at once: two processes, two databases
            with ThreadPoolExecutor(max_workers=1) as other:
                built = other.submit(on_postgres)
                build(warehouse, audit_vars)
                assert "models, seeds and tests passed" in built.result()

            # every table the build wrote has fresh statistics (macros/incremental.sql, ANALYZE in
            # the watermark's hook; last_analyze is never autovacuum's)
            with psycopg2.connect(server.url(database)) as con, con.cursor() as cur:
                cur.execute("select schemaname || '.' || relname from pg_stat_user_tables "
                            "where schemaname in ('intermediate', 'marts', 'scorecard') and last_analyze is null "
                            "and relname not like 'audit\\_%'")
                assert cur.fetchall() == []
                cur.execute("select count(*) from pg_stat_user_tables where schemaname = 'marts'")
                assert cur.fetchone()[0] >= 8
            got = assert_same_reports(warehouse, server.url(database))
            assert len(got["fct_conversion_gap_daily"][1]) >= 3 * (11 + day)
            assert len(got["rpt_signal_scorecard"][1]) == 21
            columns, rows = got["fct_platform_match_quality_daily"]
            from_api = [r for r in rows if r[columns.index("source")] == "dataset_quality_api"]
            assert len(from_api) == 2 * (day + 1)
            assert all(r[columns.index("email_coverage_pct")] is not None for r in from_api)
