"""A warehouse from before raw rows carried their load id is refused in one sentence."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.files import InputError
from pipelines.upgrade import refuse_old_layout as refuse_in
from signal_audit_core.targets import DuckDBTarget


def refuse_old_layout(warehouse: Path) -> None:
    with DuckDBTarget(warehouse).sql_client() as client:
        refuse_in(client, str(warehouse))


def test_a_warehouse_without_load_ids_is_refused_with_what_to_do(tmp_path: Path):
    warehouse = tmp_path / "old.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw; create table raw.orders (order_id varchar)")
    con.close()
    with pytest.raises(InputError, match="earlier version of signal-audit; audit into a new one"):
        refuse_old_layout(warehouse)


def test_a_current_or_missing_warehouse_passes(tmp_path: Path):
    refuse_old_layout(tmp_path / "none.duckdb")
    warehouse = tmp_path / "new.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema raw; create table raw.orders (order_id varchar, _dlt_load_id varchar)")
    con.close()
    refuse_old_layout(warehouse)


@pytest.mark.parametrize(("columns", "refused"), [("pii_found varchar", True), ("request varchar", False)])
def test_a_delivery_log_from_before_typed_tables_is_refused(tmp_path: Path, columns: str, refused: bool):
    warehouse = tmp_path / "log.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute(f"create schema raw; create table raw.delivery_log (record_id varchar, {columns}, _dlt_load_id text)")
    con.close()
    if refused:
        with pytest.raises(InputError, match="earlier version of signal-audit"):
            refuse_old_layout(warehouse)
    else:
        refuse_old_layout(warehouse)
