"""Entry point: land the configured input files in the warehouse's `raw` dataset."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.files import InputError, expand
from pipelines.orders import file_format
from pipelines.rejects import Tally
from pipelines.source import SOURCES, signal_audit_inputs
from signal_audit.config import Config
from signal_audit.warehouse import ensure_writable

log = logging.getLogger(__name__)

PIPELINE_NAME = "signal_audit"
DATASET = "raw"


@dataclass(frozen=True)
class SourceCounts:
    read: int  # input rows seen (blank lines not counted); always loaded + rejected
    loaded: int
    rejected: int


@dataclass(frozen=True)
class LoadReport:
    counts: dict[str, SourceCounts]  # by source: orders, delivery_log, platform_reports
    files: dict[str, tuple[str, ...]]  # by source: the absolute paths read, in reading order
    load_id: str


def state_dir(warehouse: Path) -> Path:
    """dlt's pipeline state, beside the warehouse and named for it: two warehouses in one
    folder never share state, and deleting a warehouse's folder forgets everything."""
    return warehouse.parent / ".dlt_pipelines" / warehouse.name


def run_load(config: Config) -> LoadReport:
    """Read every input file in full and merge its rows into raw.*; reject the rest.

    Raises InputError for inputs that cannot be read as configured (no file matches a
    pattern, an unknown file type, a required column missing from a file), before or
    instead of loading anything, and WarehouseBusy when the DuckDB file is in use.
    """
    files = {
        "orders": expand(config.inputs.orders, "orders"),
        "delivery_log": expand(config.inputs.delivery_log, "delivery_log"),
        "platform_reports": expand(config.inputs.platform_reports, "platform_reports"),
    }
    for path in files["orders"]:
        file_format(path)  # an unknown extension fails now, not halfway through the load

    warehouse = config.warehouse
    ensure_writable(warehouse)
    pipeline = dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=dlt.destinations.duckdb(str(warehouse)),
        dataset_name=DATASET,
        pipelines_dir=str(state_dir(warehouse)),
    )
    # A failed earlier run may have left packages that dlt would load instead of this run's
    # data; the inputs are re-read in full, so dropping them loses nothing.
    pipeline.abort_packages()

    tallies = {name: Tally() for name in SOURCES}
    source = signal_audit_inputs(
        files["orders"], files["delivery_log"], files["platform_reports"], config.orders, tallies
    )
    try:
        # dlt would otherwise keep a copy of every loaded file in its state folder, a copy of
        # the whole warehouse per run; the inputs themselves are the record to reload from.
        with dlt.config.values({"load.delete_completed_jobs": True}):
            info = pipeline.run(source)
    except PipelineStepFailed as exc:
        cause = _input_error(exc)
        if cause is not None:
            pipeline.abort_packages()
            raise cause from None
        raise
    counts = {
        name: SourceCounts(t.loaded + t.rejected, t.loaded, t.rejected)
        for name, t in tallies.items()
    }
    for name, c in counts.items():
        log.info("%s: %d rows read, %d loaded, %d rejected", name, c.read, c.loaded, c.rejected)
    return LoadReport(
        counts=counts,
        files={name: tuple(str(p) for p in paths) for name, paths in files.items()},
        load_id=info.loads_ids[-1],
    )


def _input_error(exc: BaseException) -> InputError | None:
    """The InputError that dlt wrapped while extracting, if that is what failed."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, InputError):
            return current
        seen.add(id(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return None
