"""Orders from a SQL database table: dlt's `sql_table` (pyarrow backend), incremental on an
updated-at column, merged on order_id so refunds and late edits update the existing row.

The table is read in the user's column names, mapped by `orders.columns` exactly as export
files are. Only the mapped columns and the cursor are selected. The password comes from dlt's
secrets (`SOURCES__SQL_ORDERS__PASSWORD`), never from signal_audit.yml, and is never part of
an address written to the warehouse.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import Any

import dlt
import pyarrow as pa
import sqlalchemy as sa
from dlt.extract import DltResource
from dlt.sources.sql_database import sql_table
from sqlalchemy.engine import URL, make_url

from pipelines.files import InputError
from pipelines.order_records import arrow_records
from pipelines.rejects import Tally
from pipelines.sources.http import SourceRefused, SourceUnavailable, optional_secret, scrub
from pipelines.sources.orders_sink import OrdersSink
from signal_audit_core.config import (
    ORDER_COLUMNS,
    REQUIRED_ORDER_COLUMNS,
    OrdersConfig,
    SqlOrdersConfig,
    secret_env_var,
)

log = logging.getLogger(__name__)

NAME = "sql_orders"


def table_address(config: SqlOrdersConfig) -> str:
    """`postgresql://shop@db:5432/shop/public.orders`: the URL as configured (it has no password)."""
    qualified = f"{config.schema}.{config.table}" if config.schema else config.table
    return f"{make_url(config.url).render_as_string(hide_password=True)}/{qualified}"


def sql_orders(config: SqlOrdersConfig, orders_config: OrdersConfig, tally: Tally) -> DltResource:
    engine = _engine(config)
    columns = _mapped_columns(engine, config, orders_config)
    cursor_column = config.updated_at_column
    order_id_column = columns["order_id"]
    incremental = dlt.sources.incremental(
        cursor_column,
        initial_value=_initial_value(engine, config),
        primary_key=order_id_column,  # boundary rows are recognised by key, not by content
        row_order="asc",  # so a later read of the same order is also its later version
    )
    reader = sql_table(
        credentials=engine,
        table=config.table,
        schema=config.schema,
        backend="pyarrow",
        incremental=incremental,
        chunk_size=config.chunk_size,
        included_columns=sorted(set(columns.values()) | {cursor_column}),
        reflection_level="full",
    ).with_name(f"{NAME}_read")
    address = table_address(config)
    sink = OrdersSink(orders_config, tally)

    @dlt.transformer(name=NAME)
    def to_orders(table: pa.Table) -> Iterator[Any]:
        records = (
            (address, row) if isinstance(row, str) else
            (f"{address}#{order_id_column}={row.get(order_id_column)}",
             {name: row.get(column) for name, column in columns.items()})
            for row in arrow_records(table)
        )
        yield from sink.chunks(records)

    return reader | to_orders


def _engine(config: SqlOrdersConfig) -> sa.Engine:
    url: URL = make_url(config.url)
    password = optional_secret("sql")
    if password:
        url = url.set(password=password)
    try:
        return sa.create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # an unknown dialect, a missing driver
        raise SourceRefused(f"{NAME}: cannot use {table_address(config)}: {scrub(str(exc), [password])}") from None


def _mapped_columns(engine: sa.Engine, config: SqlOrdersConfig, orders_config: OrdersConfig) -> dict[str, str]:
    """Contract column -> the table's column, for the contract columns the table has.

    Also the first contact with the database, so a wrong password or an unreachable server is
    reported here, before dlt starts.
    """
    password = optional_secret("sql")
    try:
        inspector = sa.inspect(engine)
        available = [c["name"] for c in inspector.get_columns(config.table, schema=config.schema)]
    except sa.exc.NoSuchTableError:
        raise SourceRefused(f"{NAME}: no table {table_address(config)}") from None
    except sa.exc.OperationalError as exc:
        message = scrub(str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc), [password])
        if "password" in message.lower() or "authentication" in message.lower():
            raise SourceRefused(
                f"{NAME}: the database refused the login ({message}) — check the user in "
                f"sources.orders.sql.url and {secret_env_var('sql')}"
            ) from None
        raise SourceUnavailable(f"{NAME}: cannot reach the database at {table_address(config)} ({message})") from None
    present = set(available)
    columns = {name: orders_config.source_column(name) for name in ORDER_COLUMNS}
    missing = [name for name in REQUIRED_ORDER_COLUMNS if columns[name] not in present]
    if config.updated_at_column not in present:
        raise InputError(
            f"{NAME}: table {table_address(config)} has no column '{config.updated_at_column}' "
            f"(sources.orders.sql.updated_at_column); its columns are: {', '.join(available)}"
        )
    if missing:
        wanted = ", ".join(f"'{columns[n]}' (for {n})" if columns[n] != n else f"'{n}'" for n in missing)
        raise InputError(
            f"{NAME}: table {table_address(config)} has no column {wanted}; its columns are: "
            f"{', '.join(available)}. Map your column names to the contract's in orders.columns "
            "of signal_audit.yml."
        )
    absent = sorted(n for n in orders_config.columns if n in columns and columns[n] not in present)
    if absent:
        log.warning("%s: table %s lacks the mapped column(s) %s; they load as null", NAME,
                    table_address(config), ", ".join(f"'{columns[n]}' (for {n})" for n in absent))
    return {name: column for name, column in columns.items() if column in present}


def _initial_value(engine: sa.Engine, config: SqlOrdersConfig) -> Any:
    """Where the first run starts, typed like the cursor column; None reads every row."""
    if config.initial_updated_at is None:
        return None
    start = dt.datetime.fromisoformat(config.initial_updated_at)
    columns = sa.inspect(engine).get_columns(config.table, schema=config.schema)
    kind = next(c["type"] for c in columns if c["name"] == config.updated_at_column)
    if isinstance(kind, sa.DateTime) and not kind.timezone:
        return start.astimezone(dt.UTC).replace(tzinfo=None)  # naive columns are taken as UTC
    if isinstance(kind, sa.Date) and not isinstance(kind, sa.DateTime):
        return start.date()
    return start
