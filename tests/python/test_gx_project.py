"""The GX project (gx/): generated from the checks seed, committed as generated, and judging
small warehouses built here on both sides of every bound.

The warehouses hold only what GX reads (the scorecard, audit_settings, the raw tables), so
each edge is one row; tests/python/test_audit_known_answers.py runs GX on whole demo shops.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from signal_audit.checks.catalog import read_checks, read_inputs
from signal_audit.checks.project import GX_DIR, generate, render
from signal_audit.checks.runner import ChecksReport, run_checks
from signal_audit_core.config import PROJECT_DIR, ConfigError, default_audit_settings

NOW = dt.datetime.now(dt.UTC)


def _warehouse(path: Path, scorecard: list[tuple], landed: dict[str, tuple[int, int, float]],
               drop_setting: str | None = None) -> Path:
    """`scorecard`: (platform, check_name, metric_value, status); `landed`: input ->
    (rows loaded, rows rejected, hours since its newest rows landed)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts; create schema raw")
        con.execute("create table marts.rpt_signal_scorecard "
                    "(platform varchar, check_name varchar, metric_value double, status varchar, summary varchar)")
        con.executemany("insert into marts.rpt_signal_scorecard values (?, ?, ?, ?, 'A sentence.')", scorecard)
        con.execute("create table marts.audit_settings (setting_name varchar, numeric_value double)")
        settings = [(k, float(v)) for k, v in default_audit_settings().items()
                    if isinstance(v, int | float) and k != drop_setting]
        con.executemany("insert into marts.audit_settings values (?, ?)", settings)
        con.execute("create table raw._dlt_loads (load_id varchar, inserted_at timestamptz)")
        con.execute("create table raw.rejected_rows (source varchar, source_file varchar, source_line bigint)")
        for n, name in enumerate(read_inputs(PROJECT_DIR)):
            loaded, rejected, age_hours = landed.get(name, (0, 0, 0.0))
            load_id = f"17000000{n:02d}.5"
            con.execute(f"create table raw.{name} (_source_line bigint, _dlt_load_id varchar)")
            con.execute(f"insert into raw.{name} select range, ? from range({loaded})", [load_id])
            con.execute("insert into raw.rejected_rows select ?, 'f.csv', range from range(?)", [name, rejected])
            con.execute("insert into raw._dlt_loads values (?, ?)", [load_id, NOW - dt.timedelta(hours=age_hours)])
    finally:
        con.close()
    return path


def _passing_rows(platform: str = "meta") -> list[tuple]:
    """One passing row per check of the seed."""
    good = {"at_least": 1e6, "at_most": 0.0, "within": 0.0}
    return [(platform, c.check_name, good[c.direction], "pass") for c in read_checks(PROJECT_DIR)]


FRESH = {"orders": (100, 0, 1.0), "delivery_log": (100, 0, 1.0), "platform_reports": (10, 0, 1.0)}


def _failures(report: ChecksReport) -> dict[str, tuple[str, ...]]:
    found = {o.check_name: o.failing_platforms for o in report.outcomes if not o.success}
    return found | {g.name: g.failing for g in report.guards if not g.success}


# ---------------------------------------------------------------- generated, committed


def test_committed_gx_project_is_what_the_generator_writes_from_the_seed():
    files = render(PROJECT_DIR)
    committed = {
        str(p.relative_to(GX_DIR)) for p in GX_DIR.rglob("*")
        if p.is_file() and "uncommitted" not in p.relative_to(GX_DIR).parts
    }
    assert committed == set(files), "run: python -m signal_audit.checks.project"
    for relative, text in files.items():
        assert (GX_DIR / relative).read_text(encoding="utf-8") == text, (
            f"gx/{relative} differs from the seed's: run python -m signal_audit.checks.project")
    # one suite and validation definition per seed row, plus the scorecard and landed-data guards
    names = {c.check_name for c in read_checks(PROJECT_DIR)}
    suites = {p.removeprefix("expectations/").removesuffix(".json") for p in files if p.startswith("expectations/")}
    assert suites == {f"check__{n}" for n in names} | {
        "scorecard_no_failing_row", "landed_rejected_share", "landed_load_age"}
    assert {f"validation_definitions/{s}.json" for s in suites} <= set(files)
    assert {"checkpoints/scorecard.json", "checkpoints/landed_data.json"} <= set(files)


def test_no_warehouse_path_is_committed_only_the_variable():
    config = (GX_DIR / "great_expectations.yml").read_text(encoding="utf-8")
    assert re.findall(r"connection_string: (.*)", config) == ["duckdb:///${SIGNAL_AUDIT_WAREHOUSE}"]
    assert ".duckdb" not in config


def test_a_seed_row_added_or_removed_adds_or_removes_its_suite(tmp_path: Path):
    project = tmp_path / "project"
    for relative in ("seeds/checks.csv", "models/staging/_raw__sources.yml"):
        (project / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT_DIR / relative, project / relative)
    seed = project / "seeds" / "checks.csv"
    original = seed.read_text(encoding="utf-8")
    seed.write_text(original + "toy_check,8,Toy,count,at_most,toy_max,,A toy.\n", encoding="utf-8")
    gx_dir = tmp_path / "gx"
    generate(gx_dir, project)
    assert (gx_dir / "expectations" / "check__toy_check.json").exists()
    assert "toy_max" in (gx_dir / "great_expectations.yml").read_text(encoding="utf-8")
    assert generate(gx_dir, project) == []  # unchanged: nothing written
    seed.write_text(original, encoding="utf-8")
    removed = generate(gx_dir, project)
    assert gx_dir / "expectations" / "check__toy_check.json" in removed
    assert not (gx_dir / "validation_definitions" / "check__toy_check.json").exists()


def test_a_seed_row_gx_cannot_judge_is_refused_with_one_sentence(tmp_path: Path):
    seed = tmp_path / "seeds" / "checks.csv"
    seed.parent.mkdir()
    seed.write_text((PROJECT_DIR / "seeds" / "checks.csv").read_text(encoding="utf-8")
                    + "toy_check,8,Toy,count,below,toy_max,,A toy.\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="check 'toy_check' has direction 'below'; use one of at_least"):
        read_checks(tmp_path)


# ---------------------------------------------------------------- judging warehouses


def test_gx_fails_exactly_beyond_each_bound_and_on_the_landed_data(tmp_path: Path):
    settings = default_audit_settings()
    gap, floor = settings["gap_threshold"], settings["match_quality_floor"]
    rows = [r for r in _passing_rows() if r[1] not in ("conversion_gap", "match_quality", "pii_hashing")]
    rows += [
        # within: |gap| < gap_threshold passes, at the threshold either way fails
        ("inside_up", "conversion_gap", gap - 1e-4, "pass"),
        ("at_up", "conversion_gap", gap, "fail"),
        ("at_down", "conversion_gap", -gap, "fail"),
        ("inside_down", "conversion_gap", -gap + 1e-4, "pass"),
        ("no_data", "conversion_gap", None, "no_data"),
        # at_least with a floor: at the floor warns (GX passes), below fails
        ("at_floor", "match_quality", floor, "warn"),
        ("below_floor", "match_quality", floor - 0.01, "fail"),
        # at_most: no plaintext event passes, one fails
        ("none", "pii_hashing", 0.0, "pass"),
        ("one", "pii_hashing", 1.0, "fail"),
    ]
    max_share, max_age = settings["max_rejected_share"], settings["max_load_age_hours"]
    assert (max_share, max_age) == (0.05, 48)
    landed = {
        "orders": (95, 5, 1.0),  # 5% rejected: at the bound, passes
        "delivery_log": (94, 6, 1.0),  # 6%: fails
        "platform_reports": (10, 0, max_age + 1),  # newest rows 49 hours old: fails
        "meta_pixel_stats": (10, 0, max_age - 1),  # 47 hours: passes
        # meta_dataset_quality: no rows at all, not judged
    }
    warehouse = _warehouse(tmp_path / "w.duckdb", rows, landed)
    report = run_checks(warehouse, tmp_path / "gx")
    assert _failures(report) == {
        "conversion_gap": ("at_down", "at_up"),
        "match_quality": ("below_floor",),
        "pii_hashing": ("one",),
        "no scorecard row fails": ("at_down conversion_gap", "at_up conversion_gap",
                                   "below_floor match_quality", "one pii_hashing"),
        "share of rows rejected per input": ("delivery_log",),
        "age of the newest rows per input": ("platform_reports",),
    }
    gap_outcome = next(o for o in report.outcomes if o.check_name == "conversion_gap")
    assert (gap_outcome.evaluated_rows, gap_outcome.fail_setting) == (4, "gap_threshold")
    assert not report.success


def test_a_failing_check_gx_has_no_suite_for_fails_gx_and_data_docs_keep_every_run(tmp_path: Path):
    rows = [*_passing_rows(), ("meta", "toy_check", 3.0, "fail")]
    warehouse = _warehouse(tmp_path / "w.duckdb", rows, FRESH)
    gx_dir = tmp_path / "gx"
    first = run_checks(warehouse, gx_dir)
    # every check GX knows passes, the landed data passes: only the scorecard guard fails
    assert all(o.success for o in first.outcomes)
    assert _failures(first) == {"no scorecard row fails": ("meta toy_check",)}
    assert not first.success

    second = run_checks(warehouse, gx_dir)
    assert second.data_docs_index is not None
    runs = set(re.findall(r"validations/scorecard_no_failing_row/[^/]+/([^/]+)/", second.data_docs_index.read_text()))
    assert len(runs) == 2


def test_a_warehouse_where_everything_holds_passes(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", [*_passing_rows("meta"), *_passing_rows("snap")], FRESH)
    report = run_checks(warehouse, tmp_path / "gx")
    assert _failures(report) == {}
    assert report.success
    assert {o.evaluated_rows for o in report.outcomes} == {2}


def test_a_setting_missing_from_the_warehouse_is_one_sentence(tmp_path: Path):
    warehouse = _warehouse(tmp_path / "w.duckdb", _passing_rows(), FRESH, drop_setting="pii_plaintext_events_max")
    with pytest.raises(ConfigError, match=r"^the warehouse's audit_settings has no pii_plaintext_events_max, "):
        run_checks(warehouse, tmp_path / "gx")


def test_the_checks_run_in_a_python_c_process_with_pyspark_installed():
    """pyspark (the `spark` extra), which GX imports when installed, exits a `python -c`
    process with code 0 when it imports its Spark Connect modules without grpc, taking it for
    its own doctest run; the checks' import of GX must survive that."""
    pytest.importorskip("pyspark", reason="the `spark` extra is not installed")
    code = ("from signal_audit.checks.runner import _great_expectations\n"
            "gx = _great_expectations()\n"  # a plain `import great_expectations` exits here
            "print('still running', gx.__name__)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    assert (done.returncode, done.stdout.strip()) == (0, "still running great_expectations"), done.stderr[-2000:]
    assert "PySpark does not yet fully support pandas" not in done.stderr  # not the audit's concern
