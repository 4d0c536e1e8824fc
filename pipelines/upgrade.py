"""Warehouses written by an earlier version of signal-audit."""

from __future__ import annotations

from typing import Any

from pipelines.files import InputError


def refuse_old_layout(client: Any, where: str) -> None:
    """Raise InputError when the target holds raw tables without `_dlt_load_id`, or a delivery
    log from before it was flattened on load (with `pii_found`, without raw.delivery_events:
    its lines would never reach staging). `client`: an open dlt sql_client of the target;
    `where`: what messages call it.

    Raw rows carry the id of the dlt load that wrote them since dbt's incremental models key on
    it. dlt cannot add that NOT NULL column to a table that already holds rows, and an old row
    without it would never reach the incremental models: such a warehouse is rebuilt from the
    inputs rather than patched.
    """
    old = client.execute_sql(
        """
        select count(*) from information_schema.tables as t
        where t.table_schema = 'raw' and t.table_name in ('orders', 'delivery_log', 'platform_reports')
          and not exists (
              select 1 from information_schema.columns as c
              where c.table_schema = 'raw' and c.table_name = t.table_name
                and c.column_name = '_dlt_load_id')
        """
    )[0]
    if not (old and old[0]):
        old = client.execute_sql(
            "select count(*) from information_schema.columns where table_schema = 'raw' "
            "and table_name = 'delivery_log' and column_name = 'pii_found'"
        )[0]
    if old and old[0]:
        raise InputError(
            f"the warehouse {where} was written by an earlier version of signal-audit; "
            "audit into a new one (delete it, or pass another --warehouse) and every input is loaded again"
        )
