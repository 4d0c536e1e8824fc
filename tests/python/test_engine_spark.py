"""The same audit on Apache Spark (local mode) as on DuckDB: every mart and report table, the
checks, the scorecard, the report and the exported files.

A generated shop's files land twice with the same command, `signal-audit load`: in a DuckDB
file, and with `--target spark` as Parquet in a lake folder (dlt's filesystem destination).
`signal-audit build --target spark` builds the project with dbt-spark's session method (Spark
in local mode, Java 17); the readers read what Spark wrote through the target's DuckDB catalogue
of views (signal_audit_core/spark_catalog.py). Every table of models/marts/** and
models/scorecard/** must hold the same rows on both engines (floats to 1e-9, sentences
exactly) after the full build, and again after one more day arrives and `signal-audit run
--target spark` loads it, builds incrementally (day partitions rebuilt with insert_overwrite),
judges and reports. The reporting time zone is America/Los_Angeles: the shop spans the end of
daylight saving time there (2026-11-01) and Spark's session runs in UTC, so the day boundaries
are the models' own. Meta's Graph API (a local fake) adds a Dataset Quality snapshot and pixel
stats per day, so the JSON read in staging runs on Spark too.

Two Spark builds, a few minutes on 2 cores: CI installs Java and the `spark` extra (.ci/run).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from audit_harness import build
from engines_helpers import Tables, differences, report_tables, signal_audit_cli, write_settings
from fakes.meta import FakeGraph, quality_event
from test_engine_postgres import LAST_DAY, META_PIXEL, TOKEN, input_args
from test_incremental import split_by_day
from test_python_side_postgres import cells, rows, section

from signal_audit.demo import generate_shop, preset

pytestmark = pytest.mark.slow

TIMEZONE = "America/Los_Angeles"


@dataclass(frozen=True)
class Engine:
    """One engine's audit of the shop: the tables after each build, the last day's commands."""

    full: Tables
    incremental: Tables
    run: subprocess.CompletedProcess[str]
    scorecard: subprocess.CompletedProcess[str]
    export: subprocess.CompletedProcess[str]
    export_dir: Path
    report: Path
    database: Path  # what the readers read: the DuckDB file, or Spark's readers' catalogue


def tables(database: Path, engine: str) -> Tables:
    con = duckdb.connect(str(database), read_only=True)
    try:
        return report_tables(con, engine)
    finally:
        con.close()


@pytest.fixture(scope="module", autouse=True)
def spark_installed() -> None:
    """Java 17 and pyspark, or a skip; in CI (SIGNAL_AUDIT_REQUIRE_SERVICES=1) a failure."""
    missing = ("Java is not installed (Debian: openjdk-17-jre-headless)" if shutil.which("java") is None else
               "pyspark is not installed (the `spark` extra; `make test` installs it)"
               if importlib.util.find_spec("pyspark") is None else None)
    if missing and os.environ.get("SIGNAL_AUDIT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"Spark is required (SIGNAL_AUDIT_REQUIRE_SERVICES=1) but {missing}")
    if missing:
        pytest.skip(missing)


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Engine]:
    root = tmp_path_factory.mktemp("engines")
    shop = root / "shop"
    generate_shop(preset("broken", days=12, orders_per_day=40, end_date=LAST_DAY), shop)
    first, everything = split_by_day(shop, root / "split", last_day=LAST_DAY.isoformat())
    warehouse = root / "duckdb" / "audit.duckdb"
    spark_env = {"SIGNAL_AUDIT_SPARK_DIR": str(root / "spark"), "SOURCES__META__ACCESS_TOKEN": TOKEN}
    duck_env = {"SOURCES__META__ACCESS_TOKEN": TOKEN}
    on_spark = ["--target", "spark", "--warehouse", str(root / "spark-home" / "audit.duckdb")]
    on_duckdb = ["--target", "duckdb", "--warehouse", str(warehouse)]
    catalog = root / "spark" / "readers.duckdb"

    with FakeGraph(TOKEN) as graph:
        settings = write_settings(root / "signal_audit.yml", graph.url, META_PIXEL, {"reporting_timezone": TIMEZONE})

        def meta_day(day: int) -> dt.datetime:
            # Meta's snapshot and pixel stats of the day the load runs
            fetched = dt.datetime.combine(LAST_DAY, dt.time(12, 30), dt.UTC) - dt.timedelta(days=1 - day)
            graph.quality[META_PIXEL] = [quality_event("Purchase", 6.5 + day, email=85.5 + day),
                                         quality_event("AddToCart", 5.25)]
            graph.stats[META_PIXEL] = {fetched - dt.timedelta(hours=h): {"Purchase": 10 + h, "PageView": 90 + h}
                                       for h in range(1, 4)}
            return fetched

        # day one: the same files land in both engines, then both build (at once: two processes)
        fetched = meta_day(0)
        load = ["load", "--config", str(settings), *input_args(first)]
        landed = {name: signal_audit_cli([*load, *where], env, root, fetched)
                  for name, where, env in (("duckdb", on_duckdb, duck_env), ("spark", on_spark, spark_env))}
        counts = {name: [line for line in done.stdout.splitlines() if " rows read, " in line]
                  for name, done in landed.items()}
        assert counts["spark"] == counts["duckdb"] and len(counts["duckdb"]) >= 4, counts
        with ThreadPoolExecutor(max_workers=1) as other:
            spark_built = other.submit(signal_audit_cli, ["build", "--config", str(settings), *on_spark],
                                       spark_env, root)
            build(warehouse, {"reporting_timezone": TIMEZONE})
            assert "models, seeds and tests passed" in spark_built.result().stdout
        full = {"duckdb": tables(warehouse, "DuckDB"), "spark": tables(catalog, "Spark")}

        # one more day: the whole audit, `run`, on each engine (one after the other: both write
        # the project's dbt target folder and GX project)
        fetched = meta_day(1)

        def audit(name: str, where: list[str], env: dict[str, str]) -> Engine:
            run = signal_audit_cli(["run", "--gate", "--config", str(settings), *input_args(everything), *where],
                                   env, root, fetched, ok=(0, 1))
            export_dir = root / f"bi-{name}"
            export = signal_audit_cli(["export", "--config", str(settings), *where, "--out", str(export_dir)],
                                      env, root)
            scorecard = signal_audit_cli(["scorecard", "--config", str(settings), *where], env, root)
            database = warehouse if name == "duckdb" else catalog
            report = Path(run.stdout.strip().splitlines()[-1].removeprefix("Report: "))
            return Engine(full[name], tables(database, name), run, scorecard, export, export_dir, report, database)

        audits = {"duckdb": audit("duckdb", on_duckdb, duck_env), "spark": audit("spark", on_spark, spark_env)}
    return audits


def test_the_full_build_on_spark_equals_duckdbs(audits: dict[str, Engine]):
    diff = differences(audits["duckdb"].full, audits["spark"].full, ("DuckDB", "Spark"))
    assert not diff, "Spark's marts differ from DuckDB's after the full build:\n" + "\n".join(diff[:20])
    assert len(audits["spark"].full["rpt_signal_scorecard"][1]) == 21
    assert len(audits["spark"].full["fct_conversion_gap_daily"][1]) >= 3 * 11


def test_one_more_day_built_incrementally_on_spark_equals_duckdbs(audits: dict[str, Engine]):
    spark = audits["spark"].incremental
    diff = differences(audits["duckdb"].incremental, spark, ("DuckDB", "Spark"))
    assert not diff, "Spark's marts differ from DuckDB's after one more day:\n" + "\n".join(diff[:20])
    assert len(spark["fct_conversion_gap_daily"][1]) > len(audits["spark"].full["fct_conversion_gap_daily"][1])
    columns, found = spark["fct_platform_match_quality_daily"]
    from_api = [r for r in found if r[columns.index("source")] == "dataset_quality_api"]
    assert len(from_api) == 4  # per load, a snapshot of two events (Purchase, AddToCart), each on its own day


def test_run_on_spark_gives_the_same_exit_code_verdicts_scorecard_and_report(audits: dict[str, Engine]):
    duck, spark = audits["duckdb"], audits["spark"]
    assert spark.run.returncode == duck.run.returncode == 1, spark.run.stdout[-3000:]  # the broken shop fails
    verdicts = {name: [line for line in section(a.run.stdout, "judge thresholds", "write the report")
                       if "Data Docs" not in line and "done in" not in line]
                for name, a in audits.items()}
    assert verdicts["spark"] == verdicts["duckdb"]
    assert "    share of rows rejected per input: passed" in verdicts["spark"]

    def card(output: str) -> str:
        return output[output.index("Signal scorecard,"):output.index("failing check(s) of")]

    assert card(spark.run.stdout) == card(duck.run.stdout)
    assert card(spark.scorecard.stdout) == card(duck.scorecard.stdout)
    pages = {name: a.report.read_text(encoding="utf-8") for name, a in audits.items()}
    for table in ("scorecard", "matrix", "causes", "waterfall-numbers"):
        assert cells(pages["spark"], table) == cells(pages["duckdb"], table), table
    assert len(cells(pages["spark"], "scorecard")) == 21


def test_export_on_spark_writes_the_same_files_and_rows(audits: dict[str, Engine]):
    files = {name: sorted(p.name for p in a.export_dir.iterdir()) for name, a in audits.items()}
    assert files["spark"] == files["duckdb"] and "rpt_signal_scorecard.parquet" in files["spark"]
    for name in files["duckdb"]:
        duck, spark = (pq.read_table(a.export_dir / name) for a in audits.values())
        assert (spark.num_rows, spark.schema) == (duck.num_rows, duck.schema), name  # names and types
        assert rows(spark) == rows(duck), name


def test_the_run_history_is_kept_beside_spark(audits: dict[str, Engine]):
    con = duckdb.connect(str(audits["spark"].database), read_only=True)
    try:
        runs, rows_, failing = con.execute(
            "select count(distinct run_id), count(*), count(*) filter (where status = 'fail') "
            "from audit_history.scorecard_runs").fetchone()
    finally:
        con.close()
    assert (runs, rows_) == (1, 21) and failing >= 1
