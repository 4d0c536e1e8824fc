"""Run the GX project's checkpoints on a warehouse and sum up what they found.

The project (`gx/`, signal_audit/checks/project.py) is regenerated from the seed first, so a
changed seed is judged at once; its validation results and Data Docs accumulate in
`gx/uncommitted/`, one entry per run. GX reads the target through its SQL datasource,
read-only: the committed datasource names the DuckDB file by SIGNAL_AUDIT_WAREHOUSE, set here
for the run; on another target (PostgreSQL) the datasource's connection is replaced for the run
in memory only (Target.gx_datasource: a URL without the password, which libpq reads from the
environment), so gx/ and its Data Docs never hold a connection's secret.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy

from signal_audit.checks.catalog import Check, read_checks, required_settings
from signal_audit.checks.project import (
    DATASOURCE,
    GX_DIR,
    LANDED_CHECKPOINT,
    LOAD_AGE_SUITE,
    MARTS,
    REJECTED_SUITE,
    SCORECARD_CHECKPOINT,
    STATUS_SUITE,
    generate,
    suite_name,
)
from signal_audit_core.config import PROJECT_DIR, ConfigError
from signal_audit_core.targets import GxDatasource, Target, as_target


@dataclass(frozen=True)
class CheckOutcome:
    check_name: str
    success: bool  # GX's verdict: False when any platform's metric is beyond the fail bound
    failing_platforms: tuple[str, ...]
    evaluated_rows: int  # platforms with data (no_data rows are not judged)
    fail_setting: str  # the audit setting the fail bound comes from


@dataclass(frozen=True)
class GuardOutcome:
    """A suite beyond the per-check ones: no failing scorecard row, and the landed data."""

    name: str
    success: bool
    failing: tuple[str, ...]  # "platform check_name" rows, or inputs


@dataclass(frozen=True)
class ChecksReport:
    outcomes: tuple[CheckOutcome, ...]
    guards: tuple[GuardOutcome, ...]
    data_docs_index: Path | None

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes) and all(g.success for g in self.guards)


def _great_expectations() -> Any:
    """`import great_expectations` (slow, ~2.5 s: only when checks run), safe with pyspark.

    GX imports pyspark when it is installed (the `spark` extra), and pyspark takes a process
    whose `__main__` has neither a spec nor a file (`python -c`, an embedded interpreter) for its
    own doctest run: without grpc it prints "Skipping doctests" and exits, code 0
    (pyspark/sql/connect/utils.py) - the checks would end as if they had passed. Giving such a
    `__main__` a file name while GX imports keeps pyspark from mistaking it. Its warning about
    pandas 3 concerns Spark Connect's pandas API, which neither GX nor the audit uses.
    """
    import sys
    import warnings

    main = sys.modules["__main__"]
    named = getattr(main, "__spec__", None) is None and not hasattr(main, "__file__")
    if named:
        main.__file__ = "<signal-audit>"
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                                    category=FutureWarning)
            import great_expectations
    finally:
        # only for the import: a process pool spawned later would try to run that file
        if named:
            del main.__file__
    return great_expectations


def run_checks(where: Target | Path, gx_dir: Path = GX_DIR, project_dir: Path = PROJECT_DIR) -> ChecksReport:
    """Regenerate `gx_dir` from `project_dir`'s seed, run both checkpoints on `where` (a target,
    or a DuckDB file), build Data Docs."""
    target = as_target(where)
    checks = read_checks(project_dir)
    generate(gx_dir, project_dir)
    _require_settings(target, required_settings(checks))
    # GX logs every step at INFO; the CLI prints its own summary
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    gx = _great_expectations()
    from great_expectations.core.run_identifier import RunIdentifier

    datasource = target.gx_datasource()
    if datasource.persist_connection:
        from signal_audit.checks import duckdb_gx  # (GX on DuckDB: see the module)

        duckdb_gx.enable()
    run_id = RunIdentifier(run_name="signal-audit check")  # one entry in Data Docs for both
    with _environment(datasource.env):
        context = gx.get_context(mode="file", context_root_dir=str(gx_dir))
        _connect(context, datasource)
        try:
            with _data_docs_built_once(context):
                scorecard = context.checkpoints.get(SCORECARD_CHECKPOINT).run(run_id=run_id)
                landed = context.checkpoints.get(LANDED_CHECKPOINT).run(run_id=run_id)
        finally:
            _close_connections(context)
    results = {r.suite_name: r for r in (*scorecard.run_results.values(), *landed.run_results.values())}

    outcomes = tuple(_check_outcome(check, results[suite_name(check)]) for check in checks)
    guards = (
        _guard("no scorecard row fails", results[STATUS_SUITE], ("platform", "check_name")),
        _guard("share of rows rejected per input", results[REJECTED_SUITE], ("input",)),
        _guard("age of the newest rows per input", results[LOAD_AGE_SUITE], ("input",)),
    )
    index = gx_dir / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return ChecksReport(outcomes, guards, index if index.exists() else None)


@contextmanager
def _data_docs_built_once(context: Any) -> Iterator[None]:
    """The checkpoints' Data Docs action (gx/checkpoints/*.json) rebuilds the site, its index and
    every page template once per validation: ten builds a run, most of `check`'s time. Inside
    this block the action only notes the pages it would build; they are built at the end, in
    one build per site list, with the same pages and index. GX's own checkpoints, run without
    signal-audit, keep their action as it is. (UpdateDataDocsAction._build_data_docs is private:
    GX is pinned, and test_gx_project.py checks that every run's pages are in the Data Docs.)"""
    from great_expectations.checkpoint.actions import UpdateDataDocsAction

    pending: dict[tuple[str, ...], list[Any]] = {}

    def note(_action: Any, site_names: list[str] | None = None, resource_identifiers: list | None = None) -> dict:
        pending.setdefault(tuple(site_names or ()), []).extend(resource_identifiers or ())
        return {}

    build = UpdateDataDocsAction._build_data_docs
    UpdateDataDocsAction._build_data_docs = note
    try:
        yield
    finally:
        UpdateDataDocsAction._build_data_docs = build
    for site_names, identifiers in pending.items():
        context.build_data_docs(site_names=list(site_names), resource_identifiers=identifiers, build_index=True)


def _close_connections(context: Any) -> None:
    """Close the warehouse connection GX keeps open (duckdb_gx), so the file is free again for
    this process: DuckDB refuses a second connection to it with another configuration."""
    for datasource in context.data_sources.all().values():
        engine = getattr(datasource, "_execution_engine", None)
        if engine is not None:
            if engine._connection is not None:
                engine._connection.close()
                engine._connection = None
            engine.engine.dispose()
        if getattr(datasource, "_engine", None) is not None:
            datasource._engine.dispose()


def _connect(context: Any, datasource: GxDatasource) -> None:
    """Point the project's datasource at the target for this run, in memory: the context caches
    its datasources and nothing here saves them, so gx/great_expectations.yml keeps its own."""
    committed = context.data_sources.get(DATASOURCE)
    if (str(committed.connection_string), committed.kwargs) == (datasource.connection_string, datasource.kwargs):
        return
    committed.connection_string = datasource.connection_string
    committed.kwargs = datasource.kwargs


def _require_settings(target: Target, names: tuple[str, ...]) -> None:
    from signal_audit.reporting.data import reading_marts

    with reading_marts(target) as con:
        published = {row[0] for row in con.execute(sqlalchemy.text(
            f"select setting_name from {MARTS}.audit_settings where numeric_value is not null"))}
    missing = [name for name in names if name not in published]
    if missing:
        raise ConfigError(
            f"the warehouse's audit_settings has no {', '.join(missing)}, which the checks are judged "
            "by: add the setting to dbt_project.yml vars and macros/audit_settings.sql, then rebuild")


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value


def _unexpected(result: Any, columns: tuple[str, ...]) -> set[str]:
    """The rows (named by `columns`) that any expectation of a suite result found unexpected."""
    found = set()
    for expectation in result.results:
        error = _raised(expectation.exception_info or {})
        if error:
            raise RuntimeError(f"GX could not evaluate {expectation.expectation_config.type} in "
                               f"{result.suite_name}: {error}")
        for row in expectation.result.get("unexpected_index_list") or []:
            found.add(" ".join(str(row[c]) for c in columns))
    return found


def _raised(info: dict[str, Any]) -> str | None:
    """The message of an exception GX caught, flat or keyed by metric; None when none was."""
    if "raised_exception" in info:
        return info.get("exception_message") or "unknown error" if info["raised_exception"] else None
    return next((m for v in info.values() if isinstance(v, dict) and (m := _raised(v))), None)


def _check_outcome(check: Check, result: Any) -> CheckOutcome:
    failing = _unexpected(result, ("platform",))
    pair = result.results[0].result  # the first comparison: rows with a metric and a bound
    evaluated = (pair.get("element_count") or 0) - (pair.get("missing_count") or 0)
    return CheckOutcome(check.check_name, bool(result.success), tuple(sorted(failing)), evaluated,
                        check.fail_setting)


def _guard(name: str, result: Any, columns: tuple[str, ...]) -> GuardOutcome:
    return GuardOutcome(name, bool(result.success), tuple(sorted(_unexpected(result, columns))))
