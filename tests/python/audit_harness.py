"""Run the whole audit (dlt load, dbt build, GX checks) on generated shops, for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.load import LoadReport, run_load
from signal_audit.checks.runner import ChecksReport, run_checks
from signal_audit.demo import ShopConfig, Truth, generate_shop
from signal_audit.transform import dbt_build
from signal_audit_core.config import Config, InputsConfig


@dataclass(frozen=True)
class AuditedShop:
    truth: Truth
    shop_dir: Path
    warehouse: Path
    load: LoadReport
    checks: ChecksReport

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def rows(self, sql: str) -> list[dict[str, Any]]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        finally:
            con.close()

    def scorecard(self) -> dict[tuple[str, str], dict[str, Any]]:
        return {(r["platform"], r["check_name"]): r for r in self.rows("select * from marts.rpt_signal_scorecard")}


def shop_inputs(shop_dir: Path) -> InputsConfig:
    return InputsConfig(
        orders=(str(shop_dir / "orders.csv"),),
        delivery_log=(str(shop_dir / "delivery_log.jsonl.gz"),),
        platform_reports=(str(shop_dir / "platform_reports.csv"),),
    )


def build(warehouse: Path, audit_vars: dict[str, Any] | None = None) -> None:
    outcome = dbt_build(warehouse, audit_vars or {}, target_path=warehouse.parent / "target")
    assert outcome.success, "dbt build failed:\n" + "\n".join(outcome.failures)


def audit_shop(shop: ShopConfig, root: Path) -> AuditedShop:
    shop_dir = root / "shop"
    truth = generate_shop(shop, shop_dir)
    warehouse = root / "warehouse" / "audit.duckdb"
    config = Config(warehouse=warehouse, inputs=shop_inputs(shop_dir))
    load = run_load(config)
    build(warehouse)
    checks = run_checks(warehouse, root / "gx")
    return AuditedShop(truth, shop_dir, warehouse, load, checks)

