"""Entry point: land the configured input files in the warehouse's `raw` dataset."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines import manifest, upgrade
from pipelines.files import InputError, expand
from pipelines.log_sql import Landed
from pipelines.order_records import file_format
from pipelines.rejects import Tally
from pipelines.seeds import known_platforms, load_platforms
from pipelines.source import SOURCES, signal_audit_inputs
from pipelines.sources.http import SourceError, SourceUnavailable, explain, scrub
from pipelines.sources.runs import SourceRun, plan
from signal_audit_core.config import Config, ReportExport
from signal_audit_core.targets import DATASET, DuckDBTarget, Target, target_of

log = logging.getLogger(__name__)

PIPELINE_NAME = "signal_audit"
# Database and API sources run in a pipeline of their own: their incremental state must never
# be dropped with the file pipeline's pending packages (files are re-read in full; an API
# cursor that moved on would skip what a dropped package held).
SOURCES_PIPELINE_NAME = "signal_audit_sources"
# dlt would otherwise keep a copy of every loaded file in its state folder, and a copy of the
# last load's rows in raw_staging (for a year of logs, half the warehouse)
LOAD_CONFIG = {"load.delete_completed_jobs": True, "load.truncate_staging_dataset": True}
# every raw row carries the id of the load that wrote it (`_dlt_load_id`, listed in
# raw._dlt_loads): dbt's incremental models read the loads after the newest one they hold
ADD_LOAD_ID = "normalize.parquet_normalizer.add_dlt_load_id"


@dataclass(frozen=True)
class SourceCounts:
    read: int  # input rows seen (blank lines not counted); always loaded + rejected + line_items
    loaded: int
    rejected: int
    # rows that continue the order before them (a Shopify export's line items), folded into it
    line_items: int = 0

    @classmethod
    def of(cls, tally: Tally) -> SourceCounts:
        return cls(tally.loaded + tally.rejected + tally.line_items, tally.loaded, tally.rejected,
                   tally.line_items)


@dataclass(frozen=True)
class LoadReport:
    # by source: orders, delivery_log, platform_reports, and each configured database or API
    # source (sql_orders, shopify_orders, stripe_orders, meta_dataset_quality, meta_pixel_stats)
    counts: dict[str, SourceCounts]
    # by source: the absolute paths read, in reading order; for a database or API source the
    # address read (a URL or table, never with a secret)
    files: dict[str, tuple[str, ...]]
    load_id: str  # the last load of the run
    # by source: files left unread because an earlier run loaded them as they are now
    skipped: dict[str, tuple[str, ...]] = field(default_factory=dict)


def state_dir(warehouse: Path) -> Path:
    """dlt's pipeline state of a DuckDB warehouse: beside it and named for it (any target's:
    `Target.state_dir`, signal_audit_core/targets.py)."""
    return DuckDBTarget(warehouse).state_dir


def run_load(
    config: Config, now: Callable[[], dt.datetime] | None = None, reload_all: bool = False,
    target: Target | None = None,
) -> LoadReport:
    """Read every new or changed input file in full and merge its rows into raw.*; reject the
    rest. Files an earlier run loaded as they are now are skipped (pipelines/manifest.py)
    unless `reload_all`. Then load each configured database or API source (docs/sources.md),
    incrementally.

    Raises InputError for inputs that cannot be read as configured (no file matches a
    pattern, an unknown file type, a required column missing from a file, a source refusing
    its credentials), before or instead of loading anything; SourceUnavailable when a source
    kept failing after its retries (what other inputs held is loaded); WarehouseBusy when the
    DuckDB file is in use. `now` (default: the clock) dates Meta's quality snapshots. `target`
    (default: the one `config` names) is where the raw tables land; the file manifest and the
    landed log lines are read there through dlt's sql_client (on a Spark lake, which has none,
    through an in-memory DuckDB over its Parquet: signal_audit_core/lake.py), so every engine
    loads alike.
    """
    files = {
        "orders": expand(config.inputs.orders, "orders"),
        "delivery_log": expand(config.inputs.delivery_log, "delivery_log"),
        "platform_reports": expand(config.inputs.platform_reports, "platform_reports"),
    }
    for path in files["orders"]:
        file_format(path)  # an unknown extension fails now, not halfway through the load
    exports = _report_exports(config)

    target = target or target_of(config)
    target.ensure_writable()
    with target.sql_client() as client:
        upgrade.refuse_old_layout(client, target.label)
        known = {} if reload_all else manifest.loaded(client)
    fresh = {name: manifest.new_or_changed(paths, known) for name, paths in files.items()}
    skipped = {name: tuple(str(p) for p in paths if p not in fresh[name]) for name, paths in files.items()}
    files = fresh
    # Secrets, and the database's columns, are checked before anything is loaded.
    runs = plan(config, now or (lambda: dt.datetime.now(dt.UTC)))

    pipeline = _pipeline(PIPELINE_NAME, target)
    # A failed earlier run may have left packages that dlt would load instead of this run's
    # data; the inputs are re-read in full, so dropping them loses nothing.
    pipeline.abort_packages()

    tallies = {name: Tally() for name in SOURCES}
    source = signal_audit_inputs(
        files["orders"], files["delivery_log"], files["platform_reports"], config.orders, tallies,
        report_exports=exports, warehouse=target.duckdb_file,
        landed=None if target.duckdb_file else _landed_lines(target),
    )
    try:
        # (the inputs themselves, not dlt's copies, are the record to reload from)
        with dlt.config.values(LOAD_CONFIG):
            info = pipeline.run(source, loader_file_format=target.loader_file_format)
    except PipelineStepFailed as exc:
        cause = _input_error(exc)
        if cause is not None:
            pipeline.abort_packages()
            raise cause from None
        raise
    load_id = info.loads_ids[-1]
    # on a Parquet lake dlt appended what it merges elsewhere: the latest row per key is kept now,
    # before the manifest says the files are loaded
    target.settle(pipeline, load_id)
    # A file read again replaces what earlier loads rejected of it (its fixed lines now load);
    # exports are read in full on every run.
    reread = {**files, "platform_report_exports": [p for _, paths in exports for p in paths]}
    with target.sql_client() as client:
        manifest.record(client, files, reread, info.loads_ids)
    counts = {name: SourceCounts.of(t) for name, t in tallies.items()}
    report_files = {name: tuple(str(p) for p in paths) for name, paths in files.items()}
    if exports:
        report_files["platform_reports"] += tuple(str(p) for _, paths in exports for p in paths)

    if runs:
        sources_pipeline = _pipeline(SOURCES_PIPELINE_NAME, target)
        _finish_pending(sources_pipeline, target)
        for run in runs:
            load_id = _run_source(sources_pipeline, run, target) or load_id
            for name, t in run.tallies.items():
                counts[name] = SourceCounts.of(t)
            report_files.update({name: (where,) for name, where in run.locations.items()})

    for name, c in counts.items():
        log.info("%s: %d rows read, %d loaded, %d line-item rows folded into their orders, %d rejected",
                 name, c.read, c.loaded, c.line_items, c.rejected)
    return LoadReport(counts=counts, files=report_files, load_id=load_id, skipped=skipped)


def _pipeline(name: str, target: Target | Path) -> dlt.Pipeline:
    """`target`'s pipeline `name` (a Path: a DuckDB warehouse)."""
    # set for the process, not per run: whatever these pipelines extract, even a package a run
    # died before loading, carries the load id the raw tables require
    dlt.config[ADD_LOAD_ID] = True
    if not any(isinstance(f, _ChosenFileFormat) for f in logging.getLogger("dlt").filters):
        logging.getLogger("dlt").addFilter(_ChosenFileFormat())
    return (DuckDBTarget(target) if isinstance(target, Path) else target).pipeline(name)


class _ChosenFileFormat(logging.Filter):
    """dlt warns, table by table on every load, that Arrow reaches PostgreSQL as INSERT
    statements ("This will degrade performance"), and that a Parquet lake gets appends where a
    merge was asked ("Falling back to `append`", and so its "dedup_sort" hint "will be ignored"):
    the target chose the first (targets.py says why) and does the second's merge itself
    (Target.settle, which applies dedup_sort)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        appended = "Falling back to `append`" in message or (
            '"dedup_sort" column hint' in message and 'write disposition "append"' in message)
        return "ArrowToInsertValuesWriter" not in message and not appended


def _landed_lines(target: Target) -> Landed:
    """Which delivery-log lines earlier loads landed in `target`, asked per chunk of lines (for
    a DuckDB file the reader attaches the file instead)."""
    # One client for the whole read, connected per chunk: making dlt's client per chunk kept
    # about 100 MB each (11 GB over a year of a mid-size shop on PostgreSQL).
    client = target.sql_client()

    def landed(record_ids: Sequence[str]) -> list[tuple[str, str, int]]:
        with client:
            if not manifest.has_table(client, "delivery_log"):
                return []
            # a list binds as an array; unnest reads it in DuckDB and PostgreSQL alike
            return [(record_id, file, int(line)) for record_id, file, line in client.execute_sql(
                f"select record_id, _source_file, _source_line from {DATASET}.delivery_log "
                "where record_id in (select unnest(%s))", list(record_ids))]

    return landed


def _finish_pending(pipeline: dlt.Pipeline, target: Target) -> None:
    """Load what an earlier run extracted but did not load (it died in normalize or load).

    Its incremental cursors already moved past that data, so dropping it would lose rows;
    loading it first and then reading on from the cursor resumes without duplicates (rows are
    merged on their keys).
    """
    if pipeline.has_pending_data:
        log.warning("%s: loading what an interrupted earlier run left pending", pipeline.pipeline_name)
        with dlt.config.values(LOAD_CONFIG):
            info = pipeline.run()
        if info.loads_ids:
            target.settle(pipeline, info.loads_ids[-1])


def _run_source(pipeline: dlt.Pipeline, run: SourceRun, target: Target) -> str | None:
    """One source system's resources in one dlt run; its faults become one SourceError.

    A run that fails while extracting loads nothing and keeps the last good cursor, so the
    next run reads the same records again.
    """
    source = dlt.source(name=SOURCES_PIPELINE_NAME, max_table_nesting=0)(lambda: run.resources)()
    try:
        with dlt.config.values(LOAD_CONFIG):
            info = pipeline.run(source, loader_file_format=target.loader_file_format)
    except PipelineStepFailed as exc:
        error = explain(exc, run.system, run.secrets, run.refusal or (lambda response: None),
                        run.attempts, run.retryable)
        if error is None:
            error = _input_error(exc) or _find(exc, SourceError) or _database_error(exc, run)
            if error is None:
                raise
        if exc.step == "extract":
            pipeline.abort_packages()  # nothing of a half-read source is loaded
        raise type(error)(scrub(str(error), run.secrets)) from None
    if not info.loads_ids:
        return None
    target.settle(pipeline, info.loads_ids[-1])
    return info.loads_ids[-1]


def _database_error(exc: BaseException, run: SourceRun) -> SourceError | None:
    """A database that failed while being read (connection lost, statement refused)."""
    from sqlalchemy.exc import DBAPIError

    cause = _find(exc, DBAPIError)
    if cause is None:
        return None
    detail = (str(cause.orig or cause).strip().splitlines() or [type(cause).__name__])[0]
    return SourceUnavailable(f"{run.system}: the database failed while being read ({detail}); nothing from "
                             "this run was loaded, the next run starts where the last good one ended")


def _report_exports(config: Config) -> list[tuple[ReportExport, list[Path]]]:
    exports = config.platform_reports.exports
    if not exports:
        return []
    platforms = load_platforms()
    out = []
    for i, export in enumerate(exports):
        if export.platform not in platforms:
            raise InputError(
                f"platform_reports.exports[{i}].platform '{export.platform}' is not a known platform "
                f"(known: {known_platforms(platforms)})"
            )
        out.append((export, expand(export.files, f"platform_reports.exports[{i}]")))
    return out


def _input_error(exc: BaseException) -> InputError | None:
    """The InputError that dlt wrapped while extracting, if that is what failed."""
    return _find(exc, InputError)


def _find(exc: BaseException, kind: type[Any]) -> Any:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = getattr(current, "exception", None) or current.__cause__ or current.__context__
    return None
