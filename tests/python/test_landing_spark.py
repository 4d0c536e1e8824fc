"""Landing in a Spark lake (`--target spark`) gives what landing in DuckDB gives.

A generated demo shop, with files of bad rows beside it, lands in a DuckDB file (in process)
and, with `signal-audit load --target spark`, as Parquet in a lake folder (dlt's filesystem
destination). The lake is read with DuckDB, so no Java is needed: every raw table holds the
same rows (dlt's own _dlt_load_id/_dlt_id aside), rejects carry the same reasons, the tables
merged on a key elsewhere hold each key once, a rerun changes nothing, one more day's files land
alone, and no plaintext e-mail or phone reaches the lake. The readers' DuckDB catalogue (views
over the Parquet Spark wrote, signal_audit_core/spark_catalog.py) is tested here on files
written without Spark; tests/python/test_engine_spark.py builds with Spark itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from test_landing_postgres import EMAIL, ORDER_HEADER, _sorted, compared, duckdb_columns, duckdb_rows, inputs
from test_landing_postgres import shop as shop  # noqa: F401  (the fixture: the messy demo shop and its bad files)

from pipelines.load import run_load
from signal_audit_core.config import Config, ConfigError, load_config
from signal_audit_core.spark_catalog import refresh
from signal_audit_core.targets import SparkTarget, target_of
from signal_audit_core.warehouse import WarehouseBusy

DUCK_TYPES = {"VARCHAR", "BIGINT", "INTEGER", "DOUBLE", "BOOLEAN", "DATE", "TIMESTAMP WITH TIME ZONE"}


def lake_tables(lake: Path) -> dict[str, dict[str, str]]:
    """The lake's tables (folders of Parquet under raw/, not dlt's JSONL) and their columns, as
    DuckDB reads them."""
    con = duckdb.connect()
    try:
        out: dict[str, dict[str, str]] = {}
        for folder in sorted((lake / "raw").iterdir()):
            if folder.name.startswith("_dlt") or not any(folder.glob("*.parquet")):
                continue
            rows = con.execute(f"describe select * from read_parquet('{folder}/*.parquet', union_by_name = true)")
            out[folder.name] = {name: kind for name, kind, *_ in rows.fetchall()}
        return out
    finally:
        con.close()


def lake_rows(lake: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        return _sorted(con.execute(f"select {', '.join(columns)} from read_parquet("
                                   f"'{lake}/raw/{table}/*.parquet', union_by_name = true)").fetchall())
    finally:
        con.close()


def lake_snapshot(lake: Path) -> dict[str, list[tuple[Any, ...]]]:
    return {table: lake_rows(lake, table, [c for c in columns if c != "loaded_at"])
            for table, columns in lake_tables(lake).items()}


def assert_same_raw_tables(warehouse: Path, lake: Path) -> None:
    duck, parquet = duckdb_columns(warehouse), lake_tables(lake)
    assert set(parquet) == set(duck), "the same raw tables"
    for table, columns in duck.items():
        assert [c for c in parquet[table] if c != "_dlt_id"] == [c for c in columns if c != "_dlt_id"], \
            f"raw.{table}: the same columns in the same order"
        assert {c: parquet[table][c] for c in columns if c != "_dlt_id"} == \
            {c: k for c, k in columns.items() if c != "_dlt_id"}, f"raw.{table}: the same column types"
        names = compared(table, columns)
        assert lake_rows(lake, table, names) == duckdb_rows(warehouse, table, names), f"raw.{table}: the same rows"


def spark_cli(root: Path, shop: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SIGNAL_AUDIT_SPARK_DIR": str(root / "spark"), "SIGNAL_AUDIT_RAW_LAKE": str(root / "lake")}
    args = ["load", "--target", "spark", "--warehouse", str(root / "warehouse" / "audit.duckdb"),
            "--orders", str(shop / "orders*.csv"), "--delivery-log", str(shop / "delivery_log*.jsonl*"),
            "--platform-reports", str(shop / "platform_reports*.csv"), *extra]
    done = subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=root, env=env,
                          capture_output=True, text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return done


def counts(stdout: str) -> dict[str, tuple[int, int, int]]:
    """source -> (read, loaded, rejected) from what `load` prints."""
    found = {}
    for source, read, loaded, rejected in re.findall(
            r"^\s+(\w+): ([\d,]+) rows read, ([\d,]+) loaded(?:, ([\d,]+) rejected)?", stdout, re.MULTILINE):
        found[source] = tuple(int((n or "0").replace(",", "")) for n in (read, loaded, rejected))
    return found


def duck_load(root: Path, shop: Path) -> dict[str, tuple[int, int, int]]:
    config = Config(warehouse=root / "warehouse" / "audit.duckdb", inputs=inputs(shop))
    report = run_load(config)
    return {name: (c.read, c.loaded, c.rejected) for name, c in report.counts.items()}


def test_the_lake_holds_what_duckdb_holds_reruns_change_nothing_and_a_new_day_lands_alone(shop, tmp_path):  # noqa: F811
    duck = duck_load(tmp_path / "duck", shop)
    loaded = spark_cli(tmp_path, shop)
    assert loaded.stderr == ""  # not even dlt's "Falling back to `append`": the target merges itself
    assert f"into Spark at {tmp_path / 'spark'}" in loaded.stdout
    assert counts(loaded.stdout) == duck
    assert duck["delivery_log"][2] == 3 and duck["orders"][2] == 3
    warehouse = tmp_path / "duck" / "warehouse" / "audit.duckdb"
    lake = tmp_path / "lake"
    assert_same_raw_tables(warehouse, lake)
    assert set(k for columns in lake_tables(lake).values() for k in columns.values()) <= DUCK_TYPES
    # dlt's layout, which macros/engines/spark.sql registers; its own tables are JSONL
    assert any((lake / "raw" / "delivery_log").glob("*.parquet"))
    assert any((lake / "raw" / "_dlt_loads").glob("*.jsonl"))
    assert (tmp_path / "spark" / "run.lock").exists()
    assert any((tmp_path / "spark" / ".dlt_pipelines").glob("*/signal_audit"))
    reasons = lake_rows(lake, "rejected_rows", ["source", "source_line", "reason", "source_file"])
    bad = [(s, n, r) for s, n, r, f in reasons if "_bad." in f]
    assert [(s, n) for s, n, _ in bad] == [
        ("delivery_log", 2), ("delivery_log", 3), ("delivery_log", 4), ("orders", 3), ("orders", 4), ("orders", 5)]
    assert bad[2][2].startswith("duplicate of ") and bad[2][2].endswith("delivery_log.jsonl.gz:1")

    # a rerun reads nothing and changes nothing
    before = lake_snapshot(lake)
    again = spark_cli(tmp_path, shop)
    assert {s: c[0] for s, c in counts(again.stdout).items()} == {"orders": 0, "delivery_log": 0, "platform_reports": 0}
    assert lake_snapshot(lake) == before
    # read again in full: every order and report merged on its key (one row per key, not two
    # files' worth), rejects replaced, log lines landed once
    full = spark_cli(tmp_path, shop, "--reload-all")
    assert counts(full.stdout) == duck
    assert_same_raw_tables(warehouse, lake)
    for table, keys in {"orders": "order_id", "rejected_rows": "source, source_file, source_line",
                        "platform_reports": "report_date, platform, pixel_id, event_name"}.items():
        assert len(list((lake / "raw" / table).glob("*.parquet"))) == 1, f"{table}: one file after the merge"
        con = duckdb.connect()
        rows, distinct = con.execute(f"select count(*), count(distinct ({keys})) from "
                                     f"read_parquet('{lake}/raw/{table}/*.parquet')").fetchone()
        con.close()
        assert rows == distinct, f"{table}: each key once"

    # one more day: only its files are read; a re-exported order replaces its row
    with open(shop / "orders_day2.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([ORDER_HEADER, ["9101", "2026-11-01T09:00:00Z", "paid", "20.00", "EUR", "", ""],
                                  ["9001", "2026-10-31T10:00:00Z", "refunded", "10.00", "USD", "", ""]])
    (shop / "delivery_log_day2.jsonl").write_text(
        '{"platform": "snap", "channel": "browser", "sent_at": "2026-11-01T09:00:05Z", '
        '"request": {"data": [{"event_name": "PURCHASE", "event_id": "9101"}]}}\n')
    try:
        duck_day = duck_load(tmp_path / "duck", shop)
        day = spark_cli(tmp_path, shop)
    finally:
        (shop / "orders_day2.csv").unlink()
        (shop / "delivery_log_day2.jsonl").unlink()
    assert counts(day.stdout) == duck_day
    assert {s: c[0] for s, c in duck_day.items()} == {"orders": 2, "delivery_log": 1, "platform_reports": 0}
    assert "2 file(s) unchanged" in day.stdout  # orders.csv and orders_bad.csv
    assert_same_raw_tables(warehouse, lake)
    assert lake_rows(lake, "orders", ["status", "_source_file"]).count(("refunded", str(shop / "orders_day2.csv"))) == 1

    # no plaintext e-mail or phone in any text column of the lake (the inputs do hold them)
    with open(shop / "orders.csv", encoding="utf-8") as fh:
        sample = [row for _, row in zip(range(200), csv.DictReader(fh), strict=False)]
    known = [*(r["email"].strip().lower() for r in sample if r["email"].strip()),
             *(r["phone"].strip() for r in sample if r["phone"].strip()),
             *(re.sub(r"[^0-9]", "", r["phone"])[-10:] for r in sample if r["phone"].strip()),
             "quentin.bad@example.org", "(415) 555-0177", "zelda.plain@example.com", "650-555-0123", "650 555 0123"]
    assert len(known) > 100
    for table, columns in lake_tables(lake).items():
        for column in (c for c, k in columns.items() if k == "VARCHAR"):
            for (value,) in lake_rows(lake, table, [f'"{column}"']):
                if value is None:
                    continue
                lowered = value.lower()
                assert not EMAIL.search(lowered), f"an e-mail address in {table}.{column}"
                hits = [k for k in known if k in lowered]
                assert not hits, f"{hits[:3]} in {table}.{column}"


def test_the_spark_target_names_its_folders(tmp_path, monkeypatch):
    monkeypatch.delenv("SIGNAL_AUDIT_SPARK_DIR", raising=False)
    monkeypatch.delenv("SIGNAL_AUDIT_RAW_LAKE", raising=False)
    target = target_of(Config(warehouse=tmp_path / "w" / "audit.duckdb", target="spark"))
    assert isinstance(target, SparkTarget)
    assert (target.spark_dir, target.lake) == (tmp_path / "w" / "spark", tmp_path / "w" / "spark" / "lake")
    assert target.dbt_target == "spark" and target.home == tmp_path / "w" / "spark"
    assert target.dbt_env() == {"SIGNAL_AUDIT_SPARK_DIR": str(tmp_path / "w" / "spark"),
                                "SIGNAL_AUDIT_RAW_LAKE": str(tmp_path / "w" / "spark" / "lake")}
    monkeypatch.setenv("SIGNAL_AUDIT_RAW_LAKE", str(tmp_path / "elsewhere"))
    assert target_of(Config(warehouse=tmp_path / "audit.duckdb", target="spark")).lake == tmp_path / "elsewhere"
    # the settings file's `spark_lake:` (relative to the file) comes first
    (tmp_path / "signal_audit.yml").write_text("target: spark\nspark_lake: lakes/shop\n")
    config = load_config(tmp_path / "signal_audit.yml")
    assert target_of(config).lake == tmp_path / "lakes" / "shop"
    (tmp_path / "signal_audit.yml").write_text("spark_lake: 3\n")
    with pytest.raises(ConfigError, match="spark_lake must be the path of a folder"):
        load_config(tmp_path / "signal_audit.yml")

    # the readers' catalogue is written by the first build
    with pytest.raises(ConfigError, match="no models built on Spark at .* yet: run `signal-audit build --target spark"):
        target.gx_datasource()


@pytest.mark.parametrize("command", ["check", "report", "scorecard", "export"])
def test_the_readers_before_a_spark_build_say_what_to_run(command, tmp_path):
    env = {**os.environ, "SIGNAL_AUDIT_SPARK_DIR": str(tmp_path / "spark")}
    args = [command, "--target", "spark", "--warehouse", str(tmp_path / "audit.duckdb")]
    if command == "export":
        args += ["--out", str(tmp_path / "out")]
    done = subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "run `signal-audit build --target spark`" in done.stderr and "Traceback" not in done.stderr


def _write_parquet(con: duckdb.DuckDBPyConnection, select: str, folder: Path, partition: str | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if partition:  # Spark's layout: <table>/<column>=<value>/part-*.parquet
        con.execute(f"copy ({select}) to '{folder}' (format parquet, partition_by ({partition}), "
                    "overwrite_or_ignore true, filename_pattern 'part-{uuid}')")
    else:
        con.execute(f"copy ({select}) to '{folder / 'part-00000.snappy.parquet'}' (format parquet)")


def test_the_readers_catalogue_sees_what_spark_wrote_and_keeps_the_history(tmp_path):
    """Views over Spark's table folders (day partitions as a column, in the contract's order),
    the lake's raw tables and dlt's JSONL loads; an empty partitioned table typed by its
    contract; Spark's leftovers ignored; the run history kept when the views are rewritten;
    files Spark writes later read without a refresh."""
    import json

    spark_dir, raw = tmp_path / "spark", tmp_path / "lake" / "raw"
    warehouse = spark_dir / "spark-warehouse"
    con = duckdb.connect()
    _write_parquet(con, "select * from (values ('meta', 3, 1.5, date '2026-11-01'), ('snap', 4, 2.0, "
                        "date '2026-11-01'), ('meta', 5, null, date '2026-11-02')) as t(platform, sent, share, "
                        "report_date)", warehouse / "marts.db" / "fct_daily", "report_date")
    (warehouse / "marts.db" / "fct_empty").mkdir(parents=True)  # partitioned, no rows: no file
    (warehouse / "marts.db" / "fct_daily" / "_temporary").mkdir()  # a write in progress
    _write_parquet(con, "select 'half a file' as platform", warehouse / "marts.db" / "fct_daily" / "_temporary")
    (warehouse / "marts.db" / "fct_daily" / "_SUCCESS").touch()
    _write_parquet(con, "select * from (values ('meta', 'Meta')) as t(platform, display_name)",
                   warehouse / "reference.db" / "platforms")
    (warehouse / "marts.db" / "no_contract_no_file").mkdir()
    _write_parquet(con, "select 'o1' as order_id, 'paid' as status", raw / "orders")
    (raw / "_dlt_loads").mkdir(parents=True)
    (raw / "_dlt_loads" / "raw__1764.jsonl").write_text(json.dumps(
        {"load_id": "1764", "schema_name": "raw", "status": 0, "inserted_at": "2026-11-02T10:00:00.123+00:00",
         "schema_version_hash": "abc"}))
    manifest = tmp_path / "manifest.json"
    contract = {"report_date": "date", "platform": "string", "sent": "bigint", "share": "double"}
    manifest.write_text(json.dumps({"nodes": {
        f"model.signal_audit.{name}": {"resource_type": "model", "schema": "marts", "name": name, "alias": name,
                                       "columns": {c: {"name": c, "data_type": t} for c, t in contract.items()}}
        for name in ("fct_daily", "fct_empty")}}))

    catalog = spark_dir / "readers.duckdb"
    assert refresh(spark_dir, raw, manifest, catalog) == 5
    with duckdb.connect(str(catalog)) as history:
        history.execute("create schema audit_history")
        history.execute("create table audit_history.scorecard_runs as select 'run1' as run_id")
    refresh(spark_dir, raw, manifest, catalog)  # the next build rewrites the views, not the history

    target = SparkTarget(spark_dir=spark_dir, lake=tmp_path / "lake")
    import sqlalchemy

    with target.connect() as read:
        def q(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in read.execute(sqlalchemy.text(sql)).fetchall()]

        assert q("select * from marts.fct_daily order by report_date, platform") == [
            (dt.date(2026, 11, 1), "meta", 3, 1.5), (dt.date(2026, 11, 1), "snap", 4, 2.0),
            (dt.date(2026, 11, 2), "meta", 5, None)]
        assert q("select column_name, data_type from information_schema.columns where table_name = 'fct_empty' "
                 "order by ordinal_position") == [("report_date", "DATE"), ("platform", "VARCHAR"),
                                                  ("sent", "BIGINT"), ("share", "DOUBLE")]
        assert q("select count(*) from marts.fct_empty") == [(0,)]
        assert q("select * from reference.platforms") == [("meta", "Meta")]
        assert q("select status from raw.orders") == [("paid",)]
        assert q("select load_id, inserted_at = timestamptz '2026-11-02 10:00:00.123+00' from raw._dlt_loads") == [
            ("1764", True)]
        assert q("select run_id from audit_history.scorecard_runs") == [("run1",)]
        assert q("select table_name from information_schema.tables where table_name = 'no_contract_no_file'") == []

    # Spark writes another day: the views read it as they stand
    _write_parquet(con, "select 'tiktok' as platform, 1 as sent, 0.5 as share, date '2026-11-03' as report_date",
                   warehouse / "marts.db" / "fct_daily", "report_date")
    with target.connect() as read:
        assert read.execute(sqlalchemy.text("select count(*) from marts.fct_daily")).scalar() == 4
    con.close()

    # a notebook holding the readers' file open: the next build says so in one sentence
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], "
                               "read_only=True); print('held', flush=True); time.sleep(120)", str(catalog)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseBusy, match=r"readers\.duckdb is in use by another process"):
            target.after_build(manifest)
    finally:
        holder.kill()
        holder.wait()
    target.after_build(manifest)  # free again


def test_settle_keeps_the_latest_row_per_key_gives_every_table_a_file_and_finishes_a_swap(tmp_path):
    import dlt
    import pyarrow as pa

    from pipelines.load import _pipeline
    from signal_audit_core import lake as lake_module

    target = SparkTarget(spark_dir=tmp_path / "spark", lake=tmp_path / "lake")
    pipeline = _pipeline("settle", target)

    @dlt.resource(name="keyed", write_disposition="merge", primary_key="k",
                  columns=[{"name": "line", "dedup_sort": "desc"}])
    def keyed(rows: list[tuple[int, int, str]]):
        yield pa.table({"k": pa.array([r[0] for r in rows], pa.int64()), "line": pa.array([r[1] for r in rows]),
                        "v": pa.array([r[2] for r in rows])})

    def run(rows: list[tuple[int, int, str]]) -> None:
        info = pipeline.run(keyed(rows), loader_file_format="parquet")
        target.settle(pipeline, info.loads_ids[-1])

    def rows() -> list[tuple[Any, ...]]:
        return lake_rows(target.lake, "keyed", ["k", "v"])

    run([(1, 1, "a"), (2, 2, "b"), (2, 3, "b, later line")])
    assert rows() == [(1, "a"), (2, "b, later line")]  # within a load: dedup_sort, as dlt's merge
    run([(2, 1, "b again"), (3, 2, "c")])
    assert rows() == [(1, "a"), (2, "b again"), (3, "c")]  # across loads: the latest load
    assert len(list((target.raw / "keyed").glob("*.parquet"))) == 1

    # a table without a file (Spark could not register it) gets an empty one with its columns
    shutil.rmtree(target.raw / "keyed")
    target.settle(pipeline, "0")
    assert rows() == [] and list(lake_tables(target.lake)["keyed"]) == ["k", "line", "v", "_dlt_load_id"]

    # a swap killed between its two renames is finished by the next reader
    run([(5, 1, "e")])
    (target.raw / "keyed").rename(target.raw / ".keyed.old")
    con = duckdb.connect()
    (target.raw / ".keyed.new").mkdir()
    con.execute(f"copy (select 6::bigint as k, 1::bigint as line, 'f' as v, '9' as _dlt_load_id) "
                f"to '{target.raw / '.keyed.new' / 'x.parquet'}' (format parquet)")
    con.close()
    (target.raw / ".keyed.new" / ".complete").touch()
    assert "keyed" in lake_module.tables(target.raw)
    assert rows() == [(6, "f")] and not list(target.raw.glob(".keyed.*"))


def test_building_on_spark_without_its_extra_or_java_says_what_to_install(tmp_path, monkeypatch):
    import importlib.util

    target = SparkTarget(spark_dir=tmp_path / "spark", lake=tmp_path / "lake")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *_: None if name == "pyspark" else object())
    with pytest.raises(ConfigError, match=r"needs the `spark` extra .*pip install -e \"\.\[spark\]\""):
        target.can_build()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *_: object())
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(ConfigError, match="needs Java 17: none on the PATH and JAVA_HOME is not set"):
        target.can_build()
    monkeypatch.setenv("JAVA_HOME", "/opt/java")  # pyspark looks there before the PATH
    target.can_build()
