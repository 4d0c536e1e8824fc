"""Landing in PostgreSQL (`--target postgres`) gives what landing in DuckDB gives.

A generated demo shop, with files of bad rows beside it, lands in a DuckDB file and in a real
PostgreSQL server (tests/python/fakes/postgres.py): every raw table holds the same rows (dlt's
own _dlt_load_id/_dlt_id aside), rejects carry the same reasons, the columns keep their types,
a rerun changes nothing, one more day's files land alone, no plaintext e-mail or phone
reaches PostgreSQL, and the password shows up in no output, log or state file.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest
from fakes.postgres import USER, PostgresServer, postgres_server

from pipelines import log_sql
from pipelines.load import LoadReport, run_load
from signal_audit.demo import generate_shop, preset
from signal_audit_core.config import Config, ConfigError, InputsConfig
from signal_audit_core.targets import PostgresTarget, target_of

ROOT = Path(__file__).resolve().parents[2]
FIELDS = ("HOST", "PORT", "USERNAME", "PASSWORD", "DATABASE")
# DuckDB's type -> PostgreSQL's (information_schema.columns.data_type); dlt writes text as
# unbounded varchar, which PostgreSQL stores and compares exactly as text
TYPES = {"VARCHAR": "character varying", "BIGINT": "bigint", "INTEGER": "integer", "DOUBLE": "double precision",
         "BOOLEAN": "boolean", "DATE": "date", "TIMESTAMP WITH TIME ZONE": "timestamp with time zone"}
DLT_COLUMNS = {"_dlt_load_id", "_dlt_id"}
EMAIL = re.compile(r"[a-z0-9._%+-]+@[a-z0-9-]+\.[a-z]{2,}", re.IGNORECASE)

ORDER_HEADER = ["order_id", "created_at", "status", "total_value", "currency", "email", "phone"]
BAD_ORDERS = [
    ["9001", "2026-10-31T10:00:00Z", "paid", "10.00", "USD", "Quentin.Bad@Example.org", "+1 (415) 555-0177"],
    ["", "2026-10-31T10:00:00Z", "paid", "10.00", "USD", "", ""],            # no order_id
    ["9003", "yesterday", "paid", "10.00", "USD", "", ""],                   # bad timestamp
    ["9004", "2026-10-31T10:00:00Z", "paid", "abc", "USD", "", ""],          # bad value
]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The messy_payloads demo shop (plaintext phones and unnormalized e-mails in the log), plus
    one file of bad orders and one of bad log lines."""
    folder = tmp_path_factory.mktemp("shop")
    generate_shop(preset("messy_payloads"), folder)
    with open(folder / "orders_bad.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([ORDER_HEADER, *BAD_ORDERS])
    first_line = gzip.decompress((folder / "delivery_log.jsonl.gz").read_bytes()).split(b"\n")[0].decode()
    plaintext = {"platform": "meta", "channel": "server", "sent_at": "2026-10-31T10:00:00Z", "http_status": 200,
                 "request": {"data": [{"event_name": "Purchase", "event_time": 1793440800,
                                       "user_data": {"em": "Zelda.Plain@Example.com", "ph": "650-555-0123"},
                                       "custom_data": {"order_id": "9001", "note": "call 650 555 0123"}}]}}
    (folder / "delivery_log_bad.jsonl").write_text("\n".join([
        json.dumps(plaintext),                       # redacted, landed
        '{"platform": "meta" "channel": "server"}',  # not JSON
        json.dumps({**plaintext, "platform": "pinterest"}),
        first_line,                                  # a copy of the main log's first line
        json.dumps({**plaintext, "pixel_id": "", "request": {"data": [{  # empty strings stay empty, not NULL
            "event_name": "Purchase", "event_id": "", "action_source": "", "event_time": 1793440800,
            "user_data": {"em": "", "external_id": ""}, "custom_data": {"order_id": "9001", "currency": ""}}]}}),
    ]) + "\n")
    return folder


def inputs(shop: Path) -> InputsConfig:
    return InputsConfig(orders=(str(shop / "orders*.csv"),), delivery_log=(str(shop / "delivery_log*.jsonl*"),),
                        platform_reports=(str(shop / "platform_reports*.csv"),))


@pytest.fixture
def connection(postgres: PostgresServer, request: pytest.FixtureRequest,
               monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """A fresh database per test, named to dlt (and dbt) by its env vars only."""
    database = postgres.create_database("t_" + request.node.name.lower()[:50])
    settings = {"HOST": "127.0.0.1", "PORT": str(postgres.port), "USERNAME": USER, "PASSWORD": postgres.password,
                "DATABASE": database}
    for name, value in settings.items():
        monkeypatch.setenv(f"DESTINATION__POSTGRES__CREDENTIALS__{name}", value)
    return settings


def load(root: Path, shop: Path, target: str, reload_all: bool = False) -> tuple[LoadReport, float]:
    config = Config(warehouse=root / "warehouse" / "audit.duckdb", inputs=inputs(shop), target=target)
    started = time.monotonic()
    report = run_load(config, reload_all=reload_all)
    return report, time.monotonic() - started


# --- reading both engines ---------------------------------------------------------------------

def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, Decimal):
        return float(value)
    return value


def _sorted(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    rows = [tuple(_value(v) for v in row) for row in rows]
    return sorted(rows, key=lambda row: [(v is None, repr(v)) for v in row])


def duckdb_columns(warehouse: Path) -> dict[str, dict[str, str]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select table_name, column_name, data_type from information_schema.columns "
                           "where table_schema = 'raw' and table_name not like '_dlt%' "
                           "order by table_name, ordinal_position").fetchall()
    finally:
        con.close()
    columns: dict[str, dict[str, str]] = {}
    for table, column, kind in rows:
        columns.setdefault(table, {})[column] = kind
    return columns


def duckdb_rows(warehouse: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return _sorted(con.execute(f"select {', '.join(columns)} from raw.{table}").fetchall())
    finally:
        con.close()


def pg(settings: dict[str, str]) -> Any:
    con = psycopg2.connect(host=settings["HOST"], port=int(settings["PORT"]), user=settings["USERNAME"],
                           password=settings["PASSWORD"], dbname=settings["DATABASE"])
    con.autocommit = True
    return con


def pg_query(settings: dict[str, str], sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    con = pg(settings)
    try:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        con.close()


def pg_columns(settings: dict[str, str]) -> dict[str, dict[str, str]]:
    columns: dict[str, dict[str, str]] = {}
    for table, column, kind in pg_query(
            settings, "select table_name, column_name, data_type from information_schema.columns "
                      "where table_schema = 'raw' and table_name not like '\\_dlt%%' "
                      "order by table_name, ordinal_position"):
        columns.setdefault(table, {})[column] = kind
    return columns


def pg_rows(settings: dict[str, str], table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    return _sorted(pg_query(settings, f"select {', '.join(columns)} from raw.{table}"))


def compared(table: str, columns: dict[str, str]) -> list[str]:
    """The columns compared between engines: not dlt's own, nor when a file was recorded."""
    return [c for c in columns if c not in DLT_COLUMNS and not (table == "_loaded_files" and c == "loaded_at")]


def pg_snapshot(settings: dict[str, str]) -> dict[str, list[tuple[Any, ...]]]:
    return {table: pg_rows(settings, table, [c for c in columns if c != "loaded_at"])
            for table, columns in pg_columns(settings).items()}


def assert_same_raw_tables(warehouse: Path, settings: dict[str, str]) -> None:
    duck, post = duckdb_columns(warehouse), pg_columns(settings)
    assert set(post) == set(duck), "the same raw tables"
    for table, columns in duck.items():
        assert list(post[table]) == list(columns), f"raw.{table}: the same columns in the same order"
        assert {c: post[table][c] for c in columns} == {c: TYPES[k] for c, k in columns.items()}, \
            f"raw.{table}: faithful column types"
        names = compared(table, columns)
        expected = duckdb_rows(warehouse, table, names)
        assert pg_rows(settings, table, names) == expected, f"raw.{table}: the same rows"


# --- the tests --------------------------------------------------------------------------------

def test_postgres_lands_what_duckdb_lands_reruns_change_nothing_and_a_new_day_lands_alone(
        connection, shop, tmp_path, capsys, monkeypatch):
    duck_report, duck_seconds = load(tmp_path / "duck", shop, "duckdb")
    pg_report, pg_seconds = load(tmp_path / "pg", shop, "postgres")
    with capsys.disabled():
        print(f"\n    demo shop load: DuckDB {duck_seconds:.1f} s, PostgreSQL {pg_seconds:.1f} s")
    warehouse = tmp_path / "duck" / "warehouse" / "audit.duckdb"

    assert pg_report.counts == duck_report.counts
    assert pg_report.counts["delivery_log"].rejected == 3 and pg_report.counts["orders"].rejected == 3
    assert_same_raw_tables(warehouse, connection)
    # the load refreshed PostgreSQL's statistics of what it wrote (last_analyze: not autovacuum's)
    analyzed = dict(pg_query(connection, "select relname, last_analyze is not null from pg_stat_user_tables "
                                         "where schemaname = 'raw'"))
    assert analyzed["orders"] and analyzed["delivery_log"] and analyzed["delivery_events"], analyzed
    assert pg_query(connection, "select pixel_id, event_id, currency_raw from raw.delivery_events "
                                "where _source_file like %s and _source_line = 5", ["%_bad.jsonl"]) == [("", "", "")]
    reasons = pg_query(connection, "select source, source_line, reason from raw.rejected_rows "
                                   "where source_file like %s order by 1, 2", ["%_bad.%"])
    assert [(source, line) for source, line, _ in reasons] == [
        ("delivery_log", 2), ("delivery_log", 3), ("delivery_log", 4), ("orders", 3), ("orders", 4), ("orders", 5)]
    assert reasons[2][2].startswith("duplicate of ") and reasons[2][2].endswith("delivery_log.jsonl.gz:1")
    # state and lock live in a local folder named for the server, beside the warehouse's folder
    home = tmp_path / "pg" / "warehouse" / f"postgres-127.0.0.1-{connection['PORT']}-{connection['DATABASE']}"
    assert (home / ".dlt_pipelines" / "signal_audit").is_dir()

    # a rerun reads nothing and changes nothing
    before = pg_snapshot(connection)
    again, _ = load(tmp_path / "pg", shop, "postgres")
    assert {name: c.read for name, c in again.counts.items()} == {"orders": 0, "delivery_log": 0, "platform_reports": 0}
    assert pg_snapshot(connection) == before
    # read again in full: lines already landed are counted, not landed twice (asked through
    # dlt's sql_client, not an attached file), in chunks of 400 lines through one client (made
    # per chunk, dlt's client kept about 100 MB each)
    made = []
    sql_client = PostgresTarget.sql_client
    with monkeypatch.context() as patched:
        patched.setattr(PostgresTarget, "sql_client", lambda self: made.append(1) or sql_client(self))
        patched.setattr(log_sql, "CHUNK_LINES", 400)
        full, _ = load(tmp_path / "pg", shop, "postgres", reload_all=True)
    chunks = -(-full.counts["delivery_log"].read // 400)
    assert chunks >= 8
    assert len(made) <= chunks // 2, "the landed lines are asked through one client, not one per chunk"
    assert full.counts == pg_report.counts
    assert_same_raw_tables(warehouse, connection)

    # one more day: only its files are read, on both engines alike
    with open(shop / "orders_day2.csv", "w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([ORDER_HEADER, ["9101", "2026-11-01T09:00:00Z", "paid", "20.00", "EUR", "", ""]])
    new_line = json.dumps({"platform": "snap", "channel": "browser", "sent_at": "2026-11-01T09:00:05Z",
                           "request": {"data": [{"event_name": "PURCHASE", "event_id": "9101"}]}})
    (shop / "delivery_log_day2.jsonl").write_text(new_line + "\n")
    try:
        duck_day, _ = load(tmp_path / "duck", shop, "duckdb")
        pg_day, _ = load(tmp_path / "pg", shop, "postgres")
    finally:
        (shop / "orders_day2.csv").unlink()
        (shop / "delivery_log_day2.jsonl").unlink()
    assert pg_day.counts == duck_day.counts
    read = {name: c.read for name, c in pg_day.counts.items()}
    assert read == {"orders": 1, "delivery_log": 1, "platform_reports": 0}
    assert pg_day.files["orders"] == (str(shop / "orders_day2.csv"),)
    assert set(pg_day.skipped["orders"]) == {str(shop / "orders.csv"), str(shop / "orders_bad.csv")}
    assert_same_raw_tables(warehouse, connection)

    # no plaintext e-mail or phone in any text column of raw (the inputs do hold them)
    with open(shop / "orders.csv", encoding="utf-8") as fh:
        sample = [row for _, row in zip(range(200), csv.DictReader(fh), strict=False)]
    known = [*(r["email"].strip().lower() for r in sample if r["email"].strip()),
             *(r["phone"].strip() for r in sample if r["phone"].strip()),
             *(re.sub(r"[^0-9]", "", r["phone"])[-10:] for r in sample if r["phone"].strip()),
             "quentin.bad@example.org", "(415) 555-0177", "zelda.plain@example.com", "650-555-0123", "650 555 0123"]
    assert len(known) > 100
    text_columns = [(t, c) for t, columns in pg_columns(connection).items() for c, k in columns.items()
                    if k in ("character varying", "text")]
    con = pg(connection)
    try:
        with con.cursor() as cur:
            for table, column in text_columns:
                cur.execute(f'select "{column}" from raw."{table}" where "{column}" is not null')
                for (value,) in cur.fetchall():
                    lowered = value.lower()
                    assert not EMAIL.search(lowered), f"an e-mail address in raw.{table}.{column}"
                    hits = [k for k in known if k in lowered]
                    assert not hits, f"{hits[:3]} in raw.{table}.{column}"
    finally:
        con.close()


def test_the_cli_loads_into_postgres_from_secrets_toml_and_never_shows_the_password(
        postgres, shop, tmp_path, monkeypatch):
    database = postgres.create_database("t_cli")
    for name in FIELDS:
        monkeypatch.delenv(f"DESTINATION__POSTGRES__CREDENTIALS__{name}", raising=False)
    # the connection from .dlt/secrets.toml in the folder the command runs in
    (tmp_path / ".dlt").mkdir()
    (tmp_path / ".dlt" / "secrets.toml").write_text(
        "[destination.postgres.credentials]\n"
        f'host = "127.0.0.1"\nport = {postgres.port}\ndatabase = "{database}"\n'
        f'username = "{USER}"\npassword = "{postgres.password}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESTINATION__")}
    args = ["--target", "postgres", "--warehouse", str(tmp_path / "w" / "audit.duckdb"),
            "--orders", str(shop / "orders*.csv"), "--delivery-log", str(shop / "delivery_log*.jsonl*"),
            "--platform-reports", str(shop / "platform_reports*.csv")]

    def cli(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "signal_audit.cli", *command], cwd=tmp_path, env=env,
                              capture_output=True, text=True, check=False, timeout=600)

    loaded = cli("load", *args)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stderr == ""  # not even dlt's warning about the file format the target chose
    assert f"into postgres://{USER}@127.0.0.1:{postgres.port}/{database}" in loaded.stdout
    assert re.search(r"orders: [\d,]+ rows read, [\d,]+ loaded, 3 rejected", loaded.stdout)
    settings = {"HOST": "127.0.0.1", "PORT": str(postgres.port), "USERNAME": USER, "PASSWORD": postgres.password,
                "DATABASE": database}
    assert pg_query(settings, "select count(*) from raw._loaded_files")[0][0] == 5

    # run goes on to dbt with --target postgres (the connection handed over in dbt's
    # environment), then the checks, history and report read the marts there, the connection
    # from secrets.toml too (tests/python/test_python_side_postgres.py compares them with DuckDB's)
    ran = cli("run", *args)
    assert "Traceback" not in ran.stdout + ran.stderr
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "judge thresholds (Great Expectations)" in ran.stdout and "Report: " in ran.stdout
    after = []
    for command in ("check", "report", "scorecard"):
        done = cli(command, "--target", "postgres", "--warehouse", str(tmp_path / "w" / "audit.duckdb"))
        assert done.returncode in ((0, 1) if command == "check" else (0,)), done.stderr
        assert "Traceback" not in done.stdout + done.stderr
        after.append(done)

    # a wrong password is one sentence, and neither password is shown
    (tmp_path / ".dlt" / "secrets.toml").write_text(
        (tmp_path / ".dlt" / "secrets.toml").read_text().replace(postgres.password, "not-the-Pa55word"))
    refused = cli("load", *args)
    assert refused.returncode == 2
    assert "cannot connect to postgres://" in refused.stderr and "password authentication failed" in refused.stderr

    shown = loaded.stdout + loaded.stderr + ran.stdout + ran.stderr + refused.stdout + refused.stderr
    shown += "".join(done.stdout + done.stderr for done in after)
    assert postgres.password not in shown and "not-the-Pa55word" not in shown
    written = [p for p in tmp_path.rglob("*") if p.is_file() and p.name != "secrets.toml"]
    written += [p for p in (ROOT / "logs").rglob("*") if p.is_file()] if (ROOT / "logs").is_dir() else []
    assert any(".dlt_pipelines" in p.parts for p in written)
    for path in written:
        assert postgres.password.encode() not in path.read_bytes(), f"the password in {path}"


def test_the_dbt_environment_carries_the_connection_however_it_was_given(tmp_path, monkeypatch):
    for name in FIELDS:
        monkeypatch.delenv(f"DESTINATION__POSTGRES__CREDENTIALS__{name}", raising=False)
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", "postgresql://loader:s3cret@db.example:6543/shop")
    target = target_of(Config(warehouse=tmp_path / "audit.duckdb", target="postgres"))
    assert isinstance(target, PostgresTarget)
    assert target.dbt_env() == {
        "DESTINATION__POSTGRES__CREDENTIALS__HOST": "db.example", "DESTINATION__POSTGRES__CREDENTIALS__PORT": "6543",
        "DESTINATION__POSTGRES__CREDENTIALS__USERNAME": "loader",
        "DESTINATION__POSTGRES__CREDENTIALS__PASSWORD": "s3cret",
        "DESTINATION__POSTGRES__CREDENTIALS__DATABASE": "shop"}
    assert target.dbt_target == "postgres"
    assert target.home == tmp_path / "postgres-db.example-6543-shop"
    assert "s3cret" not in repr(target) and "s3cret" not in target.label

    monkeypatch.delenv("DESTINATION__POSTGRES__CREDENTIALS")
    monkeypatch.chdir(tmp_path)  # no .dlt/secrets.toml here
    with pytest.raises(ConfigError, match="the postgres target needs its connection"):
        target_of(Config(warehouse=tmp_path / "audit.duckdb", target="postgres"))
