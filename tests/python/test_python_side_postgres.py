"""Everything after the build works on PostgreSQL as on DuckDB: `signal-audit run --target
postgres` on the demo shop gives what `signal-audit run` gives on a DuckDB file.

The same demo shop (the broken profile, the same seed) is audited end to end twice through the
CLI, once into a DuckDB file and once into a real PostgreSQL server
(tests/python/fakes/postgres.py) named by dlt's DESTINATION__POSTGRES__CREDENTIALS__* variables
only. Both give the same exit code (`--gate`), the same Great Expectations verdicts, the same
scorecard in the terminal and in the HTML report, the same exported files and rows, and a
recorded run in `audit_history.scorecard_runs`; the password shows up in no output and in no
file the audit writes (warehouse folder, GX project and Data Docs, dbt's logs and target).
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fakes.postgres import USER, PostgresServer, postgres_server

from signal_audit.checks.project import render
from signal_audit_core.config import PROJECT_DIR

pytestmark = pytest.mark.slow

PREFIX = "DESTINATION__POSTGRES__CREDENTIALS__"


@dataclass(frozen=True)
class Audit:
    run: subprocess.CompletedProcess[str]
    report: Path
    export: subprocess.CompletedProcess[str]
    export_dir: Path
    scorecard: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="module")
def env(postgres: PostgresServer) -> dict[str, str]:
    database = postgres.create_database("python_side")
    settings = {"HOST": "127.0.0.1", "PORT": str(postgres.port), "USERNAME": USER,
                "PASSWORD": postgres.password, "DATABASE": database}
    base = {k: v for k, v in os.environ.items() if not k.startswith(PREFIX) and k != "SIGNAL_AUDIT_TARGET"}
    return {**base, **{PREFIX + name: value for name, value in settings.items()}}


def cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900, check=False)


def audit(root: Path, env: dict[str, str], *target: str) -> Audit:
    warehouse = ["--warehouse", str(root / "demo.duckdb"), *target]
    run = cli("run", "--gate", *warehouse, env=env, cwd=root)
    assert run.returncode in (0, 1), run.stderr
    report = Path(run.stdout.strip().splitlines()[-1].removeprefix("Report: "))
    export = cli("export", *warehouse, "--out", str(root / "bi"), env=env, cwd=root)
    scorecard = cli("scorecard", *warehouse, env=env, cwd=root)
    return Audit(run, report, export, root / "bi", scorecard)


@pytest.fixture(scope="module")
def audits(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> dict[str, Audit]:
    duck_root, pg_root = tmp_path_factory.mktemp("duckdb"), tmp_path_factory.mktemp("postgres")
    return {"duckdb": audit(duck_root, env), "postgres": audit(pg_root, env, "--target", "postgres")}


def section(output: str, start: str, end: str) -> list[str]:
    lines = output.splitlines()
    first = next(i for i, line in enumerate(lines) if start in line)
    last = next(i for i in range(first + 1, len(lines)) if end in lines[i])
    return lines[first + 1:last]


def cells(page: str, table_class: str) -> list[list[str]]:
    """The text of every cell of the page's tables of `table_class`, row by row."""
    tables = re.findall(rf'<table class="{table_class}">.*?<tbody>(.*?)</tbody>', page, re.S)
    assert tables, f"no {table_class} table"

    def text(cell: str) -> str:
        return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", cell).split()))

    return [[text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
            for body in tables for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def test_run_gives_the_same_exit_code_and_gx_verdicts(audits: dict[str, Audit]):
    duck, pg = audits["duckdb"].run, audits["postgres"].run
    assert pg.returncode == duck.returncode == 1, pg.stderr  # the broken shop fails its gate
    verdicts = {name: [line for line in section(a.run.stdout, "judge thresholds", "write the report")
                       if "Data Docs" not in line and "done in" not in line]
                for name, a in audits.items()}
    assert verdicts["postgres"] == verdicts["duckdb"]
    assert "    conversion_gap: FAILED for meta, tiktok" in verdicts["postgres"]
    assert "    share of rows rejected per input: passed" in verdicts["postgres"]


def test_the_scorecard_reads_the_same_in_the_terminal_and_the_report(audits: dict[str, Audit]):
    def card(output: str) -> str:
        return output[output.index("Signal scorecard,"):output.index("failing check(s) of")]

    assert card(audits["postgres"].run.stdout) == card(audits["duckdb"].run.stdout)
    assert audits["postgres"].scorecard.returncode == 0, audits["postgres"].scorecard.stderr
    assert card(audits["postgres"].scorecard.stdout) == card(audits["duckdb"].scorecard.stdout)
    pages = {name: a.report.read_text(encoding="utf-8") for name, a in audits.items()}
    assert audits["postgres"].report.is_relative_to(audits["postgres"].export_dir.parent)
    assert cells(pages["postgres"], "scorecard") == cells(pages["duckdb"], "scorecard")
    assert len(cells(pages["postgres"], "scorecard")) == 21
    # and the report's other tables: the check matrix, the ranked causes, the waterfall in numbers
    for table in ("matrix", "causes", "waterfall-numbers"):
        assert cells(pages["postgres"], table) == cells(pages["duckdb"], table), table
    assert "from postgres://shop@127.0.0.1:" in pages["postgres"]  # where it was read, no password


def rows(table) -> list[tuple[str, ...]]:
    """A table's rows, sorted, floats to 9 digits (the engines sum in different orders)."""
    return sorted(tuple(f"{v:.9g}" if isinstance(v, float) else str(v) for v in row.values())
                  for row in table.to_pylist())


def test_export_writes_the_same_files_and_rows(audits: dict[str, Audit]):
    assert audits["postgres"].export.returncode == 0, audits["postgres"].export.stderr
    files = {name: sorted(p.name for p in a.export_dir.iterdir()) for name, a in audits.items()}
    assert files["postgres"] == files["duckdb"] and "rpt_signal_scorecard.parquet" in files["postgres"]
    for name in files["duckdb"]:
        duck, pg = (pq.read_table(a.export_dir / name) for a in audits.values())
        assert (pg.num_rows, pg.schema) == (duck.num_rows, duck.schema), name  # names and types
        assert rows(pg) == rows(duck), name
    # the printed row counts too
    counts = {name: [line for line in a.export.stdout.splitlines() if line.endswith(" rows")]
              for name, a in audits.items()}
    assert counts["postgres"] == counts["duckdb"] and len(counts["postgres"]) == len(files["duckdb"])


def test_history_records_the_run_in_postgres(audits: dict[str, Audit], postgres: PostgresServer,
                                            env: dict[str, str]):
    import psycopg2

    con = psycopg2.connect(postgres.url(env[PREFIX + "DATABASE"]))
    try:
        with con.cursor() as cur:
            cur.execute("select count(distinct run_id), count(*), count(*) filter (where status = 'fail') "
                        "from audit_history.scorecard_runs")
            runs, rows, failing = cur.fetchone()
    finally:
        con.close()
    assert (runs, rows, failing) == (1, 21, 3)


def test_the_password_is_in_no_output_and_no_file_written(audits: dict[str, Audit], env: dict[str, str],
                                                            run_outputs: dict[str, Path]):
    password = env[PREFIX + "PASSWORD"]
    audit = audits["postgres"]
    for done in (audit.run, audit.export, audit.scorecard):
        assert password not in done.stdout + done.stderr
    # the project's gx/, logs/ and target/, or this worker's (conftest.py)
    written = [audit.export_dir.parent, PROJECT_DIR / "gx", PROJECT_DIR / "logs", PROJECT_DIR / "target",
               *run_outputs.values()]
    files = [p for folder in written if folder.exists() for p in folder.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" and "data_docs" in str(p) for p in files)  # GX's Data Docs were searched
    secret = password.encode()
    assert [p for p in files if secret in p.read_bytes()] == []
    # GX's datasource was pointed at PostgreSQL in memory only: the committed project is unchanged
    assert (PROJECT_DIR / "gx" / "great_expectations.yml").read_text(encoding="utf-8") == render()[
        "great_expectations.yml"]
