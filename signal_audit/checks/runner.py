"""Run the Great Expectations suites on the scorecard and write Data Docs.

The marts are small, so GX validates pandas DataFrames read from DuckDB (read-only, closed
before GX starts). GX's SQL datasource on a DuckDB file returns empty metrics (it reads
results after closing the connection), and the only fix patches GX internals; DataFrames
need no patch. One suite per scorecard check; each row of the check is one platform.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from signal_audit.checks.rules import RULES, CheckRule


@dataclass(frozen=True)
class CheckOutcome:
    check_name: str
    success: bool  # GX's verdict: False when any platform's metric breaks the fail bound
    failing_platforms: tuple[str, ...]
    evaluated_rows: int  # platforms with data (no_data rows are not judged)
    bounds: tuple[float | None, float | None]


@dataclass(frozen=True)
class ChecksReport:
    outcomes: tuple[CheckOutcome, ...]
    data_docs_index: Path | None

    @property
    def success(self) -> bool:
        return all(o.success for o in self.outcomes)


def read_scorecard(warehouse: Path) -> tuple[pd.DataFrame, dict[str, float]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        scorecard = con.execute(
            "select platform, check_name, metric_value, status from marts.rpt_signal_scorecard"
        ).df()
        settings = dict(
            con.execute(
                "select setting_name, numeric_value from marts.audit_settings where numeric_value is not null"
            ).fetchall()
        )
    finally:
        con.close()
    return scorecard, settings


def run_checks(warehouse: Path, gx_dir: Path) -> ChecksReport:
    """Validate every check's rows; write Data Docs under `gx_dir`."""
    scorecard, settings = read_scorecard(warehouse)
    # GX logs every step at INFO; the CLI prints its own summary
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx  # slow import (~2.5 s): only when checks run
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if gx_dir.exists():
        shutil.rmtree(gx_dir)  # suites are rebuilt from settings every run
    context = gx.get_context(mode="file", project_root_dir=str(gx_dir))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.save()
    source = context.data_sources.add_pandas(name="signal_audit_marts")

    outcomes = []
    for rule in RULES:
        rows = scorecard[(scorecard.check_name == rule.check_name) & scorecard.metric_value.notna()]
        rows = rows.reset_index(drop=True)
        low, high = rule.bounds(settings)
        asset = source.add_dataframe_asset(name=f"scorecard_{rule.check_name}")
        batch_definition = asset.add_batch_definition_whole_dataframe(rule.check_name)
        suite = context.suites.add(_suite(gx, rule, low, high))
        validation = context.validation_definitions.add(
            gx.ValidationDefinition(name=rule.check_name, data=batch_definition, suite=suite)
        )
        result = validation.run(
            batch_parameters={"dataframe": rows},
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": ["platform"]},
        )
        failing = sorted(
            {row["platform"] for r in result.results for row in r.result.get("unexpected_index_list") or []}
        )
        outcomes.append(CheckOutcome(rule.check_name, bool(result.success), tuple(failing), len(rows), (low, high)))

    context.build_data_docs()
    index = gx_dir / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    return ChecksReport(tuple(outcomes), index if index.exists() else None)


def _suite(gx, rule: CheckRule, low: float | None, high: float | None):
    suite = gx.ExpectationSuite(name=f"signal_audit.{rule.check_name}")
    suite.add_expectation(
        gx.expectations.ExpectColumnValuesToBeBetween(
            column="metric_value",
            min_value=low,
            max_value=high,
            strict_min=rule.strict,
            strict_max=rule.strict,
            meta={"check_name": rule.check_name, "notes": "fail bound of the scorecard check"},
        )
    )
    return suite

