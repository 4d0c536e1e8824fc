"""Orders from a real PostgreSQL server through dlt's sql_database source (pyarrow backend)."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
import sqlalchemy as sa
from audit_harness import build, shop_inputs
from fakes.postgres import PostgresServer, postgres_server
from sources_helpers import assert_nowhere, config, query

from pipelines.files import InputError
from pipelines.load import run_load
from pipelines.sources.http import SourceRefused
from signal_audit.checks.runner import run_checks
from signal_audit.demo import generate_shop, preset
from signal_audit_core.config import InputsConfig, OrdersConfig, SqlOrdersConfig

EMAIL = "john_smith@gmail.com"
EMAIL_SHA256 = "62a14e44f765419d10fea99367361a727c12365e2520f32218d505ed9aa0f62f"
T0 = dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def shop_db(postgres: PostgresServer, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> sa.Engine:
    """A fresh database for each test; the password reaches the loader only as a dlt secret."""
    name = postgres.create_database("t_" + request.node.name.lower()[:50])
    monkeypatch.setenv("SOURCES__SQL_ORDERS__PASSWORD", postgres.password)
    engine = sa.create_engine(postgres.url(name))
    yield engine
    engine.dispose()


def sql_source(postgres: PostgresServer, engine: sa.Engine, **settings: object) -> SqlOrdersConfig:
    values = {"url": postgres.url(engine.url.database, with_password=False), "table": "orders",
              "updated_at_column": "updated_at", "schema": "public", **settings}
    return SqlOrdersConfig(**values)  # type: ignore[arg-type]


def create_orders(engine: sa.Engine, rows: list[dict[str, object]]) -> None:
    with engine.begin() as con:
        con.execute(sa.text("""
            create table orders (
                order_id text primary key, created_at timestamptz not null, status text not null,
                total_value numeric(12, 2) not null, currency text not null, sales_channel text,
                checkout_type text, customer_id text, email text, phone text, country text,
                is_test boolean, internal_note text, updated_at timestamptz not null)"""))
        insert(con, rows)


def insert(con: sa.Connection, rows: list[dict[str, object]]) -> None:
    for row in rows:
        values = {"sales_channel": "web", "checkout_type": "guest", "customer_id": None, "email": None,
                  "phone": None, "country": None, "is_test": False, "internal_note": "do not load", **row}
        con.execute(sa.text(
            "insert into orders values (:order_id, :created_at, :status, :total_value, :currency, "
            ":sales_channel, :checkout_type, :customer_id, :email, :phone, :country, :is_test, "
            ":internal_note, :updated_at)"), values)


def order(order_id: str, minutes: int, **values: object) -> dict[str, object]:
    return {"order_id": order_id, "created_at": T0, "status": "paid", "total_value": 10.5,
            "currency": "usd", "updated_at": T0 + dt.timedelta(minutes=minutes), **values}


def test_orders_load_incrementally_and_edits_merge_into_the_same_row(postgres, shop_db, tmp_path):
    create_orders(shop_db, [order("1001", 1, email=f" {EMAIL.upper()} ", phone="(650) 555-1212", country="US"),
                            order("1002", 2), order("1003", 3, status="pending"), order("1004", 4),
                            order("1005", 5, currency="")])
    cfg = config(tmp_path, sql=sql_source(postgres, shop_db))

    first = run_load(cfg)
    assert first.counts["sql_orders"].loaded == 4
    assert first.counts["sql_orders"].rejected == 1  # 1005: missing currency
    assert query(cfg, "select order_id, status, total_value, currency, email_sha256 from raw.orders "
                      "order by 1") == [
        ("1001", "paid", 10.5, "USD", EMAIL_SHA256), ("1002", "paid", 10.5, "USD", None),
        ("1003", "pending", 10.5, "USD", None), ("1004", "paid", 10.5, "USD", None)]
    address = f"postgresql://shop@127.0.0.1:{postgres.port}/{shop_db.url.database}/public.orders"
    assert query(cfg, "select source, source_file, reason from raw.rejected_rows") == [
        ("orders", f"{address}#order_id=1005", "missing currency")]

    # a refund, a late edit, a new order; 1001 and 1002 unchanged
    with shop_db.begin() as con:
        con.execute(sa.text("update orders set status = 'refunded', updated_at = :t where order_id = '1004'"),
                    {"t": T0 + dt.timedelta(hours=2)})
        con.execute(sa.text("update orders set status = 'paid', total_value = 12, updated_at = :t "
                            "where order_id = '1003'"), {"t": T0 + dt.timedelta(hours=3)})
        insert(con, [order("1006", 200)])
    second = run_load(cfg)
    assert second.counts["sql_orders"].read == 3  # only what changed since the cursor
    assert query(cfg, "select order_id, status, total_value from raw.orders order by 1") == [
        ("1001", "paid", 10.5), ("1002", "paid", 10.5), ("1003", "paid", 12.0),
        ("1004", "refunded", 10.5), ("1006", "paid", 10.5)]

    third = run_load(cfg)
    assert third.counts["sql_orders"].read == 0
    assert query(cfg, "select count(*), count(distinct order_id) from raw.orders") == [(5, 5)]


def test_the_users_column_names_map_onto_the_contract(postgres, shop_db, tmp_path):
    with shop_db.begin() as con:
        con.execute(sa.text("create schema shop"))
        con.execute(sa.text("create table shop.sales (id bigint primary key, placed timestamp, state text, "
                            "total double precision, cur text, mail text, changed timestamp)"))
        con.execute(sa.text("insert into shop.sales values (77, '2026-05-01 10:00', 'Paid', 99.9, 'eur', "
                            ":mail, '2026-05-02 00:00')"), {"mail": EMAIL})
    mapping = {"order_id": "id", "created_at": "placed", "status": "state", "total_value": "total",
               "currency": "cur", "email": "mail"}
    cfg = config(tmp_path, orders=OrdersConfig(columns=mapping, naive_timezone="Europe/Berlin"),
                 sql=sql_source(postgres, shop_db, table="sales", schema="shop", updated_at_column="changed"))
    run_load(cfg)
    assert query(cfg, "select order_id, created_at, status, total_value, currency, email_sha256 "
                      "from raw.orders") == [
        ("77", dt.datetime(2026, 5, 1, 8, tzinfo=dt.UTC), "paid", 99.9, "EUR", EMAIL_SHA256)]


def test_a_missing_column_or_a_wrong_password_is_one_clear_error(postgres, shop_db, tmp_path, monkeypatch):
    create_orders(shop_db, [order("1", 1)])
    cfg = config(tmp_path, sql=sql_source(postgres, shop_db, updated_at_column="modified_at"))
    with pytest.raises(InputError, match="has no column 'modified_at'"):
        run_load(cfg)

    monkeypatch.setenv("SOURCES__SQL_ORDERS__PASSWORD", "not-the-password")
    cfg = config(tmp_path, sql=sql_source(postgres, shop_db))
    with pytest.raises(SourceRefused, match=r"^sql_orders: the database refused the login .*"
                                            r"SOURCES__SQL_ORDERS__PASSWORD") as caught:
        run_load(cfg)
    assert "not-the-password" not in str(caught.value)


def test_no_plaintext_or_password_reaches_the_warehouse(postgres, shop_db, tmp_path):
    create_orders(shop_db, [order("1", 1, email=EMAIL, phone="(650) 555-1212")])
    cfg = config(tmp_path, sql=sql_source(postgres, shop_db))
    run_load(cfg)
    assert query(cfg, "select count(*) from raw.orders") == [(1,)]
    assert_nowhere(cfg, [EMAIL, "555-1212", "6505551212", postgres.password, "do not load"])


@pytest.mark.slow
def test_the_whole_audit_on_orders_from_postgres_equals_the_file_based_audit(postgres, shop_db, tmp_path):
    shop = replace(preset("broken"), days=20, orders_per_day=25)
    shop_dir = tmp_path / "shop"
    generate_shop(shop, shop_dir)
    with open(shop_dir / "orders.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    columns = list(rows[0])
    with shop_db.begin() as con:
        con.execute(sa.text("create table orders (" + ", ".join(f'"{c}" text' for c in columns)
                            + ", updated_at timestamptz not null default now())"))
        con.execute(sa.text(f"insert into orders ({', '.join(columns)}) values "
                            f"({', '.join(':' + c for c in columns)})"),
                    [{c: (v if v != "" else None) for c, v in r.items()} for r in rows])
        con.execute(sa.text("update orders set updated_at = created_at::timestamptz"))

    files = shop_inputs(shop_dir)
    from_files = config(tmp_path / "files", inputs=files)
    from_db = config(tmp_path / "db", inputs=InputsConfig(delivery_log=files.delivery_log,
                                                          platform_reports=files.platform_reports),
                     sql=sql_source(postgres, shop_db))
    for cfg in (from_files, from_db):
        run_load(cfg)
        build(cfg.warehouse)
    assert query(from_db, "select count(*) from raw.orders") == [(len(rows),)]
    marts = [t for (t,) in query(from_files, "select table_name from information_schema.tables "
                                             "where table_schema = 'marts' order by 1")]
    assert "rpt_signal_scorecard" in marts
    for mart in marts:
        assert rounded(query(from_db, f"select * from marts.{mart} order by all")) == \
            rounded(query(from_files, f"select * from marts.{mart} order by all")), mart

    # and the checks judge it: the broken shop fails where its scorecard says fail
    checks = run_checks(from_db.warehouse, tmp_path / "gx")
    failing = {(p, c) for p, c in query(from_db, "select platform, check_name from marts.rpt_signal_scorecard "
                                                 "where status = 'fail'")}
    assert failing
    assert {(p, o.check_name) for o in checks.outcomes for p in o.failing_platforms} == failing


def rounded(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Averages may differ in the last bit with the order rows were summed in."""
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]


def test_an_order_read_twice_in_one_run_keeps_its_later_version(postgres, shop_db, tmp_path):
    with shop_db.begin() as con:  # order_id is no key here: a history table, one row per change
        con.execute(sa.text("create table orders (order_id text, created_at timestamptz, status text, "
                            "total_value numeric, currency text, updated_at timestamptz)"))
        for status, minutes in (("refunded", 30), ("paid", 10), ("partially_refunded", 20)):
            con.execute(sa.text("insert into orders values ('9', :c, :s, 5, 'EUR', :u)"),
                        {"c": T0, "s": status, "u": T0 + dt.timedelta(minutes=minutes)})
    cfg = config(tmp_path, sql=sql_source(postgres, shop_db, chunk_size=1))  # one row per chunk
    assert run_load(cfg).counts["sql_orders"].loaded == 3
    assert query(cfg, "select order_id, status from raw.orders") == [("9", "refunded")]
