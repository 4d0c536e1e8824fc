"""The dlt source: the three inputs as resources landing in the `raw` dataset."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import dlt
from dlt.extract import DltResource
from dlt.extract.items import DataItemWithMeta

from pipelines.delivery_log import delivery_log
from pipelines.log_sql import Landed
from pipelines.orders import orders
from pipelines.platform_reports import platform_reports
from pipelines.rejects import Tally
from pipelines.seeds import SEEDS_DIR, load_platforms
from pipelines.sources.meta_graph import META_DATASET_QUALITY, META_PIXEL_STATS
from signal_audit_core.config import OrdersConfig, ReportExport

SOURCES = ("orders", "delivery_log", "platform_reports")


@dlt.source(name="signal_audit", max_table_nesting=0)
def signal_audit_inputs(
    orders_files: Sequence[Path],
    delivery_log_files: Sequence[Path],
    platform_report_files: Sequence[Path],
    orders_config: OrdersConfig,
    tallies: Mapping[str, Tally],
    seeds_dir: Path = SEEDS_DIR,
    report_exports: Sequence[tuple[ReportExport, Sequence[Path]]] = (),
    warehouse: Path | None = None,
    landed: Landed | None = None,
) -> tuple[DltResource, ...]:
    """Every resource runs even without files: it then writes empty tables, so that all raw
    tables exist for dbt whatever inputs a run was given. `tallies` (one per name in SOURCES)
    receive the loaded and rejected counts as rows are extracted. `warehouse` (a DuckDB file,
    read-only) or `landed` (any other engine): where earlier loads landed delivery-log lines,
    to land each line once.
    """
    platforms = load_platforms(seeds_dir)
    return (
        orders(orders_files, orders_config, tallies["orders"]),
        delivery_log(delivery_log_files, platforms, tallies["delivery_log"], warehouse, seeds_dir, landed),
        platform_reports(platform_report_files, platforms, tallies["platform_reports"], report_exports),
        api_tables(),
    )


@dlt.resource(name="api_tables")
def api_tables() -> Iterator[DataItemWithMeta]:
    """The tables only API sources fill (pipelines/sources/), created empty so dbt can read them
    when no such source is configured. Empty chunks merge nothing into existing rows."""
    yield META_DATASET_QUALITY.chunk([])
    yield META_PIXEL_STATS.chunk([])
