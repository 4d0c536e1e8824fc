"""Write the GX project (`gx/`, a File Data Context) from the checks seed and the raw sources.

    python -m signal_audit.checks.project [GX_DIR]     # default: the project's gx/

`signal-audit check` regenerates it before every run (only files whose content changed are
written), and tests/python/test_gx_project.py keeps the committed copy equal to this output,
so suites can never drift from the seed. Everything is deterministic: ids are UUIDs derived
from names, files are sorted JSON.

What it holds:
- a SQL datasource on the warehouse named at run time: `duckdb:///${SIGNAL_AUDIT_WAREHOUSE}`
  (GX substitutes the environment variable; no path is ever written here), read-only; on
  another target the runner points it elsewhere for the run, in memory (runner.py). The
  queries are SQL every target speaks (`extract(epoch from ...)`, not DuckDB's `epoch()`);
- per scorecard check (seed row) a query asset putting each platform's metric beside the
  setting its fail bound comes from (read from `marts.audit_settings`, so dbt and GX judge
  with the same number), and a suite whose expectation follows the seed's direction;
- one suite on the whole scorecard: no row says fail, whatever its check (a check GX does
  not know can never pass silently);
- two suites on the landed data: per input, the share of rows rejected and the age of its
  newest rows, against `max_rejected_share` and `max_load_age_hours`;
- checkpoints `scorecard` and `landed_data` (results by platform and check, and by input),
  each updating the Data Docs, which keep every run under `gx/uncommitted/`.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

from signal_audit.checks.catalog import Check, read_checks, read_inputs
from signal_audit_core.config import PROJECT_DIR, WAREHOUSE_ENV

GX_DIR = PROJECT_DIR / "gx"
GX_DIR_ENV = "SIGNAL_AUDIT_GX_DIR"
GX_VERSION = "1.24.1"  # pyproject.toml's pin; written into each suite as GX does
DATASOURCE = "signal_audit_warehouse"
BATCH = "whole_table"
MARTS = "marts"  # schema of rpt_signal_scorecard and audit_settings
SCORECARD_CHECKPOINT = "scorecard"
LANDED_CHECKPOINT = "landed_data"
STATUS_SUITE = "scorecard_no_failing_row"
LANDED_ASSET = "landed_data"
REJECTED_SUITE = "landed_rejected_share"
LOAD_AGE_SUITE = "landed_load_age"
_NAMESPACE = uuid.UUID("5d1c8f0e-8a43-4c1b-9a57-3c7a3f2f6b10")


def suite_name(check: Check) -> str:
    return f"check__{check.check_name}"


def gx_dir_of_runs() -> Path:
    """Where `signal-audit check` writes the GX project, its validation results and Data Docs:
    the project's gx/ unless $SIGNAL_AUDIT_GX_DIR names another folder, so that audits run side
    by side from one checkout (two warehouses, parallel tests) do not share one."""
    return Path(os.environ.get(GX_DIR_ENV) or GX_DIR)


def generate(gx_dir: Path = GX_DIR, project_dir: Path = PROJECT_DIR) -> list[Path]:
    """Write the project into `gx_dir`; return the files written or removed (unchanged ones are
    left alone)."""
    files = render(project_dir)
    written = []
    for relative, text in files.items():
        path = gx_dir / relative
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    # a suite whose check left the seed must not linger
    for folder in ("expectations", "validation_definitions", "checkpoints"):
        for path in sorted((gx_dir / folder).glob("*.json")):
            if f"{folder}/{path.name}" not in files:
                path.unlink()
                written.append(path)
    return written


def render(project_dir: Path = PROJECT_DIR) -> dict[str, str]:
    """Every committed file of the GX project, by path relative to `gx/`."""
    checks = read_checks(project_dir)
    inputs = read_inputs(project_dir)
    assets: dict[str, dict[str, Any]] = {}
    suites: dict[str, list[dict[str, Any]]] = {}
    for check in checks:
        assets[f"check__{check.check_name}"] = _query_asset(f"check__{check.check_name}", _check_query(check))
        suites[suite_name(check)] = _check_expectations(check)
    assets["scorecard"] = _query_asset("scorecard", (
        "select platform, check_name, status, metric_value, summary\n"
        f"from {MARTS}.rpt_signal_scorecard\n"))
    suites[STATUS_SUITE] = [_expectation(STATUS_SUITE, 0, "expect_column_values_to_not_be_in_set", {
        "column": "status", "value_set": ["fail"],
    }, "No scorecard row says fail, whatever its check: a check GX has no suite for cannot pass silently.")]
    assets[LANDED_ASSET] = _query_asset(LANDED_ASSET, _landed_query(inputs))
    suites[REJECTED_SUITE] = _landed_expectations(
        REJECTED_SUITE, "max_rejected_share", "rejected_share",
        "Per input, the share of its rows rejected (raw.rejected_rows) is at most max_rejected_share; "
        "inputs that never had a row are not judged.")
    suites[LOAD_AGE_SUITE] = _landed_expectations(
        LOAD_AGE_SUITE, "max_load_age_hours", "load_age_hours",
        "Per input, its newest rows landed at most max_load_age_hours ago (raw._dlt_loads); "
        "inputs without rows are not judged.")

    asset_of_suite = {suite_name(c): f"check__{c.check_name}" for c in checks}
    asset_of_suite |= {STATUS_SUITE: "scorecard", REJECTED_SUITE: LANDED_ASSET, LOAD_AGE_SUITE: LANDED_ASSET}
    files = {"great_expectations.yml": _context_yaml(assets)}
    for name, expectations in suites.items():
        files[f"expectations/{name}.json"] = _json({
            "expectations": expectations,
            "id": _id("suite", name),
            "meta": {"great_expectations_version": GX_VERSION},
            "name": name,
            "notes": "Generated by signal_audit/checks/project.py from seeds/checks.csv; do not edit.",
        })
        asset = asset_of_suite[name]
        files[f"validation_definitions/{name}.json"] = _json({
            "data": {
                "asset": {"id": _id("asset", asset), "name": asset},
                "batch_definition": {"id": _id("batch_definition", asset), "name": BATCH},
                "datasource": {"id": _id("datasource", DATASOURCE), "name": DATASOURCE},
            },
            "id": _id("validation_definition", name),
            "name": name,
            "suite": {"id": _id("suite", name), "name": name},
        })
    scorecard_suites = [*(suite_name(c) for c in checks), STATUS_SUITE]
    files[f"checkpoints/{SCORECARD_CHECKPOINT}.json"] = _checkpoint(
        SCORECARD_CHECKPOINT, scorecard_suites, ["platform", "check_name"])
    files[f"checkpoints/{LANDED_CHECKPOINT}.json"] = _checkpoint(
        LANDED_CHECKPOINT, [REJECTED_SUITE, LOAD_AGE_SUITE], ["input"])
    return files


# ---------------------------------------------------------------- scorecard checks

# per direction: the bound columns of the query (name -> sign of the setting) and the
# expectations (column_A, column_B, or_equal) saying "A > B" where the scorecard does not fail
_BOUNDS = {
    "at_least": ({"fail_below": 1}, [("metric_value", "fail_below", True)]),
    "at_most": ({"fail_above": 1}, [("fail_above", "metric_value", True)]),
    # the conversion gap fails at |gap| >= bound, either way
    "within": ({"fail_at_or_above": 1, "fail_at_or_below": -1},
               [("fail_at_or_above", "metric_value", False), ("metric_value", "fail_at_or_below", False)]),
}


def _check_query(check: Check) -> str:
    columns, _ = _BOUNDS[check.direction]
    bounds = ",\n".join(
        f"    {'' if sign > 0 else '0 - '}fail_setting.numeric_value as {name}" for name, sign in columns.items()
    )
    # a left join: a setting missing from audit_settings leaves a null bound, which fails
    return (
        "select\n"
        "    scorecard.platform,\n"
        "    scorecard.check_name,\n"
        "    scorecard.status,\n"
        "    scorecard.metric_value,\n"
        f"{bounds}\n"
        f"from {MARTS}.rpt_signal_scorecard as scorecard\n"
        f"left join {MARTS}.audit_settings as fail_setting\n"
        f"    on fail_setting.setting_name = '{check.fail_setting}'\n"
        f"where scorecard.check_name = '{check.check_name}'\n"
    )


def _check_expectations(check: Check) -> list[dict[str, Any]]:
    name = suite_name(check)
    columns, comparisons = _BOUNDS[check.direction]
    where = {"at_least": "below", "at_most": "above", "within": "at or beyond +/-"}[check.direction]
    note = (f"{check.title}: {check.meaning} Fails where the scorecard says fail: "
            f"{where} the setting {check.fail_setting}. Platforms without data are not judged.")
    expectations = [
        _expectation(name, i, "expect_column_pair_values_a_to_be_greater_than_b", {
            "column_A": a, "column_B": b, "or_equal": or_equal, "ignore_row_if": "either_value_is_missing",
        }, note, check)
        for i, (a, b, or_equal) in enumerate(comparisons)
    ]
    n = len(expectations)
    expectations += [
        _expectation(name, n + i, "expect_column_values_to_not_be_null", {"column": column},
                     f"The setting {check.fail_setting} is published in {MARTS}.audit_settings.", check)
        for i, column in enumerate(columns)
    ]
    expectations.append(_expectation(name, len(expectations), "expect_table_row_count_to_be_between", {
        "min_value": 1, "max_value": None,
    }, f"The scorecard holds the check {check.check_name}.", check))
    return expectations


# ---------------------------------------------------------------- landed data


def _landed_query(inputs: tuple[str, ...]) -> str:
    # the newest rows of an input carry the id of the load that wrote them; raw._dlt_loads
    # says when it landed. Load ids are epoch seconds as text, so max() is the newest.
    per_input = "\n    union all\n".join(
        f"    select '{name}' as input, count(*) as rows_loaded, max(_dlt_load_id) as newest_load_id\n"
        f"    from raw.{name}"
        for name in inputs
    )
    # GX wants a query asset to start with select: subqueries, not a with clause
    return (
        "select\n"
        "    inputs.input,\n"
        "    inputs.rows_loaded,\n"
        "    coalesce(rejected.rows_rejected, 0) as rows_rejected,\n"
        "    1.0 * coalesce(rejected.rows_rejected, 0)\n"
        "        / nullif(inputs.rows_loaded + coalesce(rejected.rows_rejected, 0), 0) as rejected_share,\n"
        "    max_rejected_share.numeric_value as max_rejected_share,\n"
        "    (extract(epoch from current_timestamp) - extract(epoch from loads.inserted_at)) / 3600.0\n"
        "        as load_age_hours,\n"
        "    max_load_age_hours.numeric_value as max_load_age_hours\n"
        "from (\n"
        f"{per_input}\n"
        ") as inputs\n"
        "left join (\n"
        "    select source, count(*) as rows_rejected from raw.rejected_rows group by source\n"
        ") as rejected on rejected.source = inputs.input\n"
        "left join raw._dlt_loads as loads on loads.load_id = inputs.newest_load_id\n"
        f"left join {MARTS}.audit_settings as max_rejected_share\n"
        "    on max_rejected_share.setting_name = 'max_rejected_share'\n"
        f"left join {MARTS}.audit_settings as max_load_age_hours\n"
        "    on max_load_age_hours.setting_name = 'max_load_age_hours'\n"
    )


def _landed_expectations(suite: str, setting: str, measure: str, notes: str) -> list[dict[str, Any]]:
    return [
        _expectation(suite, 0, "expect_column_pair_values_a_to_be_greater_than_b", {
            "column_A": setting, "column_B": measure, "or_equal": True, "ignore_row_if": "either_value_is_missing",
        }, notes),
        _expectation(suite, 1, "expect_column_values_to_not_be_null", {"column": setting},
                     f"The setting {setting} is published in {MARTS}.audit_settings."),
    ]


# ---------------------------------------------------------------- GX's file formats


def _expectation(suite: str, index: int, kind: str, kwargs: dict[str, Any], notes: str,
                 check: Check | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    if check is not None:
        meta = {"check_name": check.check_name, "direction": check.direction, "setting": check.fail_setting}
    return {
        "id": _id("expectation", f"{suite}#{index}"),
        "kwargs": kwargs,
        "meta": meta,
        "notes": notes,
        "severity": "critical",
        "type": kind,
    }


def _query_asset(name: str, query: str) -> dict[str, Any]:
    return {
        "type": "query",
        "id": _id("asset", name),
        "batch_metadata": {},
        "batch_definitions": {BATCH: {"id": _id("batch_definition", name), "partitioner": None}},
        "query": query,
    }


def _checkpoint(name: str, suites: list[str], index_columns: list[str]) -> str:
    return _json({
        "actions": [{"name": "update_data_docs", "site_names": [], "type": "update_data_docs"}],
        "id": _id("checkpoint", name),
        "name": name,
        "result_format": {"result_format": "COMPLETE", "unexpected_index_column_names": index_columns},
        "validation_definitions": [{"id": _id("validation_definition", s), "name": s} for s in suites],
    })


_HEADER = """\
# Great Expectations project of signal-audit (a File Data Context, GX Core 1.24).
# Generated from seeds/checks.csv and models/staging/_raw__sources.yml by
#     python -m signal_audit.checks.project
# (signal-audit check regenerates it too): edit those, not this folder. Runtime output
# (validation results, Data Docs) goes to uncommitted/, which git ignores.
# The warehouse is named at run time by the environment variable SIGNAL_AUDIT_WAREHOUSE.
# Run the checkpoints directly: see docs/checks.md.
"""


def _context_yaml(assets: dict[str, dict[str, Any]]) -> str:
    config = {
        "config_version": 4.0,
        "config_variables_file_path": "uncommitted/config_variables.yml",
        "plugins_directory": None,
        "stores": {
            "expectations_store": _store("ExpectationsStore", "expectations/"),
            "validation_results_store": _store("ValidationResultsStore", "uncommitted/validations/"),
            "checkpoint_store": _store("CheckpointStore", "checkpoints/"),
            "validation_definition_store": _store("ValidationDefinitionStore", "validation_definitions/"),
        },
        "expectations_store_name": "expectations_store",
        "validation_results_store_name": "validation_results_store",
        "checkpoint_store_name": "checkpoint_store",
        "data_docs_sites": {
            "local_site": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": "uncommitted/data_docs/local_site/",
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        },
        "analytics_enabled": False,
        "data_context_id": _id("data_context", "signal_audit"),
        "progress_bars": {"globally": False},
        "fluent_datasources": {
            DATASOURCE: {
                "type": "sql",
                "id": _id("datasource", DATASOURCE),
                "assets": assets,
                "connection_string": f"duckdb:///${{{WAREHOUSE_ENV}}}",
                # read-only: GX never writes the warehouse, and dbt may read it meanwhile
                "kwargs": {"connect_args": {"read_only": True}},
            },
        },
    }
    return _HEADER + "\n" + yaml.dump(config, Dumper=_Dumper, sort_keys=False, width=100)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (the queries) as literal blocks, readable in the file."""


_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def _store(class_name: str, base_directory: str) -> dict[str, Any]:
    # no .ge_store_backend_id file: GX would write a random id into the committed folders
    return {"class_name": class_name, "store_backend": {
        "class_name": "TupleFilesystemStoreBackend", "suppress_store_backend_id": True,
        "base_directory": base_directory}}


def _id(kind: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{kind}:{name}"))


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else GX_DIR
    for path in generate(target):
        print(f"{'wrote' if path.exists() else 'removed'} {path}")
