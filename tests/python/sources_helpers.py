"""Shared helpers for the source tests: configs pointing at local servers, warehouse queries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from signal_audit_core.config import Config, HttpConfig, InputsConfig, OrdersConfig, SourcesConfig

# Retries are real but fast: the policy is exercised, the suite does not sleep.
FAST_RETRIES = HttpConfig(max_attempts=4, backoff_factor=0.01, max_retry_delay=0.05, timeout=10)


def config(tmp_path: Path, inputs: InputsConfig | None = None, orders: OrdersConfig | None = None,
           **sources: Any) -> Config:
    return Config(
        warehouse=tmp_path / "warehouse" / "audit.duckdb",
        inputs=inputs or InputsConfig(),
        orders=orders or OrdersConfig(),
        sources=SourcesConfig(http=sources.pop("http", FAST_RETRIES), **sources),
    )


def query(cfg: Config, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def assert_nowhere(cfg: Config, texts: list[str], logged: str = "") -> None:
    """None of `texts` is in any text column of the warehouse, in dlt's state folder, or in
    `logged` (captured output)."""
    con = duckdb.connect(str(cfg.warehouse), read_only=True)
    try:
        columns = con.execute("select table_schema, table_name, column_name from information_schema.columns "
                              "where data_type = 'VARCHAR'").fetchall()
        assert len(columns) > 20
        where = " or ".join(["contains(lower(c), ?)"] * len(texts))
        lowered = [t.lower() for t in texts]
        for schema, table, column in columns:
            hits = con.execute(f'select count(*) from (select "{column}" as c from "{schema}"."{table}") '
                               f"where {where}", lowered).fetchone()
            assert hits == (0,), f"one of {texts!r} found in {schema}.{table}.{column}"
    finally:
        con.close()
    state = cfg.warehouse.parent / ".dlt_pipelines"
    files = [p for p in state.rglob("*") if p.is_file()]
    for text in texts:
        for path in files:
            assert text.encode() not in path.read_bytes(), f"{text!r} found in {path}"
        assert text not in logged, f"{text!r} was logged"
