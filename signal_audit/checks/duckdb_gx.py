"""Make GX's SQL datasource work on a DuckDB file.

Out of the box GX returns empty metric results on DuckDB (`MetricResolutionError: list index
out of range`): it reads a query's rows after closing the connection, and duckdb_engine's
close rolls them away (upstream, closed without a fix). GX keeps one persistent connection for
the dialects in a private tuple; adding DuckDB there makes validation work. This is private
API, hence GX's exact pin and tests/python/test_gx_project.py's regression test (one passing
and one failing expectation on a DuckDB table in a schema).

Import this module (or call `enable()`) before running a checkpoint on DuckDB in any process
(runner.py does when the target asks for it: Target.gx_datasource().persist_connection). Other
engines (PostgreSQL) need no workaround.
"""

from __future__ import annotations

from enum import StrEnum


class _DuckDBDialect(StrEnum):
    # entries need `.value` (GX matches connection strings by prefix) and equal "duckdb"
    DUCKDB = "duckdb"


def enable() -> None:
    from great_expectations.execution_engine import sqlalchemy_execution_engine as engine

    if "duckdb" not in engine._PERSISTED_CONNECTION_DIALECTS:
        engine._PERSISTED_CONNECTION_DIALECTS = (*engine._PERSISTED_CONNECTION_DIALECTS, _DuckDBDialect.DUCKDB)


enable()
