"""docs/adding-a-check.md, followed to the letter on a copy of the project: a toy check
(tests/python/fixtures/toy_check/) reaches the scorecard, touching only the files the doc
names; a check judged but not declared, or declared but not judged, fails `dbt build`.

The module fixture builds the toy project once; Great Expectations (generated from the toy's
seed) and the HTML report then judge and show the toy check with no edit of their own.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from audit_harness import shop_inputs

from pipelines.load import run_load
from signal_audit.checks.runner import run_checks
from signal_audit.demo import generate_shop
from signal_audit.demo.profiles import preset
from signal_audit.reporting import write_report
from signal_audit.transform import dbt_executable
from signal_audit_core.config import PROJECT_DIR, WAREHOUSE_ENV, Config

FIXTURE = Path(__file__).parent / "fixtures" / "toy_check"
DOC = PROJECT_DIR / "docs" / "adding-a-check.md"
PROJECT_FILES = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "tests/dbt")
CHECK = "server_capture"


@dataclass(frozen=True)
class ToyProject:
    project: Path
    warehouse: Path

    def dbt(self, *args: str) -> subprocess.CompletedProcess[str]:
        # the broken shop fails the CI gate (tests/dbt/signal_checks_*.sql) by design: these
        # builds are judged by the scorecard's own tests, so the gate only warns
        return subprocess.run(
            [dbt_executable(), *args, "--project-dir", str(self.project), "--profiles-dir", str(self.project),
             "--target-path", str(self.project / "target"), "--vars", "{gate_on: none}"],
            env={**os.environ, WAREHOUSE_ENV: str(self.warehouse), "DO_NOT_TRACK": "1"},
            capture_output=True, text=True, timeout=900, check=False,
        )

    def rows(self, sql: str) -> list[dict]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            cur = con.execute(sql)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        finally:
            con.close()

    def results(self) -> dict[str, dict]:
        """run_results.json of the last dbt command, by node name."""
        results = json.loads((self.project / "target" / "run_results.json").read_text())["results"]
        return {r["unique_id"].split(".")[2]: r for r in results}

    def copy(self, root: Path) -> ToyProject:
        root.mkdir(parents=True)
        shutil.copytree(self.project, root / "project", ignore=shutil.ignore_patterns("target", "logs"))
        shutil.copy(self.warehouse, root / "audit.duckdb")
        return ToyProject(root / "project", root / "audit.duckdb")


def _snapshot(project: Path) -> dict[str, str]:
    return {str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(project.rglob("*")) if p.is_file()}


def _insert_after(path: Path, anchor: str, text: str) -> None:
    source = path.read_text()
    assert source.count(anchor) == 1, f"{anchor!r} is not once in {path}"
    path.write_text(source.replace(anchor, anchor + text))


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text().rstrip("\n") + "\n" + text)


def follow_the_doc(project: Path) -> None:
    """The steps of docs/adding-a-check.md, each on the file the doc names."""
    # 1. the seed row
    _append(project / "seeds" / "checks.csv", (FIXTURE / "checks_row.csv").read_text())
    # 2. a setting of its own
    _insert_after(project / "dbt_project.yml", "\nvars:\n", "  server_capture_min: 0.90\n")
    _insert_after(project / "macros" / "audit_settings.sql", "return([", "\n        'server_capture_min',")
    # 3. the model, 4. its YAML, 5. a unit test at its bounds
    checks = project / "models" / "scorecard" / "checks"
    shutil.copy(FIXTURE / f"check__{CHECK}.sql", checks / f"check__{CHECK}.sql")
    _append(checks / "_checks__models.yml", (FIXTURE / "model.yml").read_text())
    _append(checks / "_checks__unit_tests.yml", (FIXTURE / "unit_test.yml").read_text())
    # 6. the union line
    _insert_after(project / "models" / "scorecard" / "rpt_signal_scorecard.sql", "{% set check_models = [\n",
                  f"    'check__{CHECK}',\n")


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory) -> tuple[ToyProject, set[str]]:
    root = tmp_path_factory.mktemp("toy_check")
    project = root / "project"
    for name in PROJECT_FILES:
        source = PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(source, project / name, ignore=shutil.ignore_patterns("target", "logs"))
        else:
            project.mkdir(exist_ok=True)
            shutil.copy(source, project / name)
    before = _snapshot(project)
    follow_the_doc(project)
    after = _snapshot(project)
    touched = {name for name in after if before.get(name) != after[name]}

    shop = root / "shop"
    generate_shop(preset("broken", days=7, orders_per_day=15), shop)
    warehouse = root / "warehouse" / "audit.duckdb"
    run_load(Config(warehouse=warehouse, inputs=shop_inputs(shop)))
    built = ToyProject(project, warehouse)
    ran = built.dbt("build")  # unit tests included: the toy's own at its bounds
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-2000:]
    return built, touched


def test_the_doc_names_every_file_a_new_check_touches(toy):
    _, touched = toy
    assert touched == {
        "seeds/checks.csv", "dbt_project.yml", "macros/audit_settings.sql",
        f"models/scorecard/checks/check__{CHECK}.sql", "models/scorecard/checks/_checks__models.yml",
        "models/scorecard/checks/_checks__unit_tests.yml", "models/scorecard/rpt_signal_scorecard.sql",
    }
    table = {m.replace("<name>", CHECK) for m in re.findall(r"^\| \d \| `([^`]+)` \|", DOC.read_text(), re.M)}
    assert table == touched


def test_the_toy_check_is_judged_in_the_scorecard(toy):
    built, _ = toy
    card = {r["platform"]: r for r in built.rows(
        f"select * from marts.rpt_signal_scorecard where check_name = '{CHECK}'")}
    assert set(card) == {"meta", "tiktok", "snap"}
    # the known answer, from the mart the check reads, over the scorecard's window
    expected = {r["platform"]: r["rate"] for r in built.rows(
        "select platform, 1.0 * sum(orders_sent_by_server) / sum(backend_purchases) as rate "
        "from marts.fct_conversion_gap_daily as daily "
        "where report_date between (select max(window_start) from marts.rpt_signal_scorecard) "
        "and (select max(window_end) from marts.rpt_signal_scorecard) group by platform")}
    for platform, row in card.items():
        assert (row["title"], row["unit"], row["direction"], row["display_order"]) == (
            "Server capture", "fraction", "at_least", 8)
        assert row["threshold"] == 0.9
        assert row["metric_value"] == pytest.approx(expected[platform])
        assert row["status"] == ("pass" if row["metric_value"] >= 0.9 else "fail")
        assert row["summary"].startswith("Your server sent ")
    # the broken shop's Meta never sends guest checkouts and app orders; the others send all
    assert (card["meta"]["status"], card["tiktok"]["status"], card["snap"]["status"]) == ("fail", "pass", "pass")
    # the setting reaches audit_settings, where GX and the report read bounds
    assert built.rows("select numeric_value from marts.audit_settings "
                      "where setting_name = 'server_capture_min'") == [{"numeric_value": 0.9}]


def _judged_every_declared_check(built: ToyProject) -> dict:
    return built.results()["scorecard_judges_every_declared_check"]


def test_a_check_declared_but_not_judged_fails_the_build(toy, tmp_path: Path):
    built = toy[0].copy(tmp_path / "declared_only")
    scorecard = built.project / "models" / "scorecard" / "rpt_signal_scorecard.sql"
    scorecard.write_text(scorecard.read_text().replace(f"    'check__{CHECK}',\n", ""))
    ran = built.dbt("build", "--select", "rpt_signal_scorecard+", "--exclude-resource-type", "unit_test")
    assert ran.returncode != 0
    result = _judged_every_declared_check(built)
    assert (result["status"], result["failures"]) == ("fail", 3)  # one row per platform


def test_a_check_judged_but_not_declared_fails_the_build(toy, tmp_path: Path):
    built = toy[0].copy(tmp_path / "judged_only")
    seed = built.project / "seeds" / "checks.csv"
    seed.write_text("".join(line for line in seed.read_text().splitlines(keepends=True)
                            if not line.startswith(f"{CHECK},")))
    ran = built.dbt("build", "--select", "checks", "rpt_signal_scorecard+", "--exclude-resource-type", "unit_test")
    assert ran.returncode != 0
    result = _judged_every_declared_check(built)
    assert (result["status"], result["failures"]) == ("fail", 3)
    # while the declared checks keep their verdicts
    assert built.rows(f"select count(*) as n from marts.rpt_signal_scorecard where check_name <> '{CHECK}' "
                      "and title is not null") == [{"n": 21}]


def test_great_expectations_judges_the_toy_check_from_its_seed_row(toy, tmp_path: Path):
    built, _ = toy
    report = run_checks(built.warehouse, tmp_path / "gx", project_dir=built.project)
    outcome = {o.check_name: o for o in report.outcomes}[CHECK]
    # GX fails exactly where the scorecard does: Meta (never sends guest checkouts or app orders)
    assert (outcome.success, outcome.failing_platforms) == (False, ("meta",))
    assert outcome.fail_setting == "server_capture_min"
    assert (tmp_path / "gx" / "expectations").is_dir()
    assert any(CHECK in p.name for p in (tmp_path / "gx" / "expectations").rglob("*.json"))


def test_the_report_shows_the_toy_check_with_its_title_and_verdicts(toy, tmp_path: Path):
    built, _ = toy
    page = write_report(built.warehouse, tmp_path / "report.html").read_text()
    assert page.count("Server capture") >= 3  # one scorecard row per platform
    meta = built.rows("select summary from marts.rpt_signal_scorecard "
                      f"where platform = 'meta' and check_name = '{CHECK}'")
    assert html.escape(meta[0]["summary"]) in page
