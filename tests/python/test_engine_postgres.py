"""The same audit on PostgreSQL as on DuckDB: every mart and report table, row for row.

A generated shop is loaded into DuckDB (dlt), its raw tables mirrored into a real PostgreSQL
(tests/python/engines_helpers.py), and plain `dbt build --target postgres` (profiles.yml,
dlt's DESTINATION__POSTGRES__CREDENTIALS__* variables) builds the project there; the DuckDB
warehouse is built as the audit builds it. Every table of models/marts/** and
models/scorecard/** must then hold the same rows on both engines (floats to 1e-9, sentences
exactly), after a full build and again after one more day built incrementally, with the
reporting time zone UTC and America/Los_Angeles (the shop spans the end of daylight saving
time there, on 2026-11-01). Meta's Graph API (a local fake) adds a Dataset Quality snapshot and
pixel stats per day, so the JSON read in staging runs on both engines. The first build on
PostgreSQL runs dbt's unit tests too.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from audit_harness import build
from engines_helpers import copy_raw_to_postgres, postgres_env, run_dbt
from fakes.meta import FakeGraph, quality_event
from fakes.postgres import PostgresServer, postgres_server
from sources_helpers import FAST_RETRIES
from test_incremental import split_by_day

from pipelines.load import run_load
from signal_audit.demo import generate_shop, preset
from signal_audit_core.config import PROJECT_DIR, Config, MetaGraphConfig, SourcesConfig

pytestmark = pytest.mark.slow
pytest.importorskip("dbt.adapters.postgres", reason="dbt-postgres is not installed (pyproject's test extra)")

LAST_DAY = dt.date(2026, 11, 3)
META_PIXEL = "918273645546372"  # the demo shop's (signal_audit/demo/payloads.py)
TOKEN = "EAAB" + "x7" * 40
REPORT_MODELS = sorted(p.stem for folder in ("marts", "scorecard")
                       for p in (PROJECT_DIR / "models" / folder).rglob("*.sql"))


@pytest.fixture(scope="module")
def server() -> PostgresServer:
    with postgres_server() as running:
        yield running


def table_rows(con, kind: str, models: list[str]) -> dict[str, tuple[list[str], list[tuple]]]:
    """Each model's (columns, rows) from a DuckDB or psycopg2 connection; the schema of each
    model is found in the engine's information_schema, and every model must have a table."""
    cur = con.cursor()
    cur.execute("select table_schema, table_name from information_schema.tables "
                "where table_schema in ('marts', 'scorecard')")
    where = {name: schema for schema, name in cur.fetchall()}
    missing = [m for m in models if m not in where]
    assert not missing, f"{kind}: no table for {missing}"
    found = {}
    for model in models:
        cur.execute(f'select * from {where[model]}."{model}"')
        found[model] = ([d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()])
    return found


def _plain(value: object) -> object:
    # PostgreSQL's numeric (sums of bigints) arrives as Decimal, DuckDB's hugeint as int
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _sort_key(row: tuple) -> str:
    return repr(tuple(round(v, 6) if isinstance(v, float) else v for v in row))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)), abs(float(b)))
    return a == b


def differences(expected: dict, got: dict) -> list[str]:
    """What differs between two engines' tables, one line per difference (empty: identical)."""
    found = []
    for model, (columns, rows) in expected.items():
        other_columns, other_rows = got[model]
        if columns != other_columns:
            found.append(f"{model}: columns {columns} != {other_columns}")
            continue
        left = sorted((tuple(_plain(v) for v in r) for r in rows), key=_sort_key)
        right = sorted((tuple(_plain(v) for v in r) for r in other_rows), key=_sort_key)
        if len(left) != len(right):
            found.append(f"{model}: {len(left)} rows on DuckDB, {len(right)} on PostgreSQL")
            continue
        for a, b in zip(left, right, strict=True):
            if not all(_same(x, y) for x, y in zip(a, b, strict=True)):
                found.append(f"{model}: DuckDB {a} != PostgreSQL {b}")
                break
    return found


def assert_same_reports(warehouse: Path, pg_url: str) -> dict:
    import duckdb
    import psycopg2

    duck = duckdb.connect(str(warehouse), read_only=True)
    try:
        expected = table_rows(duck, "DuckDB", REPORT_MODELS)
    finally:
        duck.close()
    pg = psycopg2.connect(pg_url)
    try:
        got = table_rows(pg, "PostgreSQL", REPORT_MODELS)
    finally:
        pg.close()
    diff = differences(expected, got)
    assert not diff, "PostgreSQL's marts differ from DuckDB's:\n" + "\n".join(diff[:20])
    return got


@pytest.mark.parametrize("timezone", ["UTC", "America/Los_Angeles"])
def test_postgres_builds_the_same_marts_as_duckdb(
    tmp_path: Path, server: PostgresServer, timezone: str, monkeypatch: pytest.MonkeyPatch
):
    shop = tmp_path / "shop"
    generate_shop(preset("broken", days=12, orders_per_day=40, end_date=LAST_DAY), shop)
    first, everything = split_by_day(shop, tmp_path / "split", last_day=LAST_DAY.isoformat())
    warehouse = tmp_path / "duckdb" / "audit.duckdb"
    database = server.create_database("audit_" + timezone.lower().replace("/", "_"))
    env = {**postgres_env(server.port, server.password, database), "PGTZ": timezone}
    audit_vars = {"reporting_timezone": timezone}
    dbt_vars = json.dumps({**audit_vars, "gate_on": "none"})
    monkeypatch.setenv("SOURCES__META__ACCESS_TOKEN", TOKEN)

    with FakeGraph(TOKEN) as graph:
        meta = MetaGraphConfig(pixel_ids=(META_PIXEL,), base_url=graph.url)
        for day, inputs in enumerate((first, everything)):
            # Meta's snapshot and pixel stats of the day the load runs
            fetched = dt.datetime.combine(LAST_DAY, dt.time(12, 30), dt.UTC) - dt.timedelta(days=1 - day)
            graph.quality[META_PIXEL] = [quality_event("Purchase", 6.5 + day, email=85.5 + day),
                                         quality_event("AddToCart", 5.25)]
            graph.stats[META_PIXEL] = {fetched - dt.timedelta(hours=h): {"Purchase": 10 + h, "PageView": 90 + h}
                                       for h in range(1, 4)}
            config = Config(warehouse=warehouse, inputs=inputs,
                            sources=SourcesConfig(http=FAST_RETRIES, meta_graph=meta))
            run_load(config, now=lambda at=fetched: at)
            copied = copy_raw_to_postgres(warehouse, server.url(database))
            assert copied["orders"] > 0 and copied["delivery_events"] > 0
            assert copied["meta_dataset_quality"] == 2 * (day + 1)

            # dbt's unit tests once (they read no data): the first build in UTC
            unit_tests = [] if (day == 0 and timezone == "UTC") else ["--exclude-resource-type", "unit_test"]
            # both engines build at once: two processes, two databases
            with ThreadPoolExecutor(max_workers=1) as other:
                on_postgres = other.submit(run_dbt, ["build", "--target", "postgres", "--vars", dbt_vars,
                                                     *unit_tests], env, tmp_path / "target")
                build(warehouse, audit_vars)
                on_postgres.result()

            got = assert_same_reports(warehouse, server.url(database))
            assert len(got["fct_conversion_gap_daily"][1]) >= 3 * (11 + day)
            assert len(got["rpt_signal_scorecard"][1]) == 21
            columns, rows = got["fct_platform_match_quality_daily"]
            from_api = [r for r in rows if r[columns.index("source")] == "dataset_quality_api"]
            assert len(from_api) == 2 * (day + 1)
            assert all(r[columns.index("email_coverage_pct")] is not None for r in from_api)
