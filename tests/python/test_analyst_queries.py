"""docs/analysts.md can't rot: every SQL block in it runs, and returns rows, on the broken demo shop;
the Parquet export writes every mart, readable without the warehouse."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from signal_audit.history import record_run
from signal_audit_core.config import PROJECT_DIR

DOC = PROJECT_DIR / "docs" / "analysts.md"
QUERIES = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture(scope="module")
def bi(audited, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of the broken shop's warehouse after one recorded run, and its Parquet export in bi/."""
    root = tmp_path_factory.mktemp("analyst")
    warehouse = root / "audit.duckdb"
    shutil.copy(audited("broken").warehouse, warehouse)
    record_run(warehouse)  # as every `signal-audit run` does
    export = subprocess.run([sys.executable, "-m", "signal_audit.cli", "export", "--warehouse", str(warehouse),
                             "--out", "bi"], cwd=root, capture_output=True, text=True, check=False)
    assert export.returncode == 0, export.stderr
    return root, warehouse


def test_the_doc_has_the_questions_analysts_ask():
    assert len(QUERIES) >= 5
    assert any("purchase_path = 'web_guest'" in q and "platform = 'meta'" in q for q in QUERIES)


@pytest.mark.parametrize("sql", QUERIES, ids=[f"query{i + 1}" for i in range(len(QUERIES))])
def test_every_documented_query_returns_rows(bi, sql: str, monkeypatch: pytest.MonkeyPatch):
    root, warehouse = bi
    monkeypatch.chdir(root)  # the Parquet example reads bi/ relative to where it runs
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(sql).fetchall()
    finally:
        con.close()
    assert rows, sql


def test_guest_checkouts_meta_never_heard_of(bi):
    _, warehouse = bi
    sql = next(q for q in QUERIES if "purchase_path = 'web_guest'" in q)
    con = duckdb.connect(str(warehouse), read_only=True)
    rows = con.execute(sql).fetchall()
    con.close()
    assert len(rows) == 35  # the broken shop never sends guest checkouts to Meta: every day
    assert all(never_sent == guests and pct == 100.0 for _, guests, _, never_sent, pct in rows)


def test_export_writes_every_mart_as_parquet(bi):
    root, warehouse = bi
    con = duckdb.connect(str(warehouse), read_only=True)
    marts = {name for (name,) in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    counts = {name: con.execute(f"select count(*) from marts.{name}").fetchone()[0] for name in marts}
    con.close()
    files = {p.stem: p for p in (root / "bi").glob("*.parquet")}
    assert set(files) == marts
    for name, path in files.items():
        assert duckdb.execute(f"select count(*) from read_parquet('{path}')").fetchall()[0][0] == counts[name], name
    assert not list((root / "bi").glob("*.partial"))


def test_marts_are_readable_while_another_reader_holds_the_file(bi):
    _, warehouse = bi
    hold = (f"import duckdb, time; c = duckdb.connect({str(warehouse)!r}, read_only=True); "
            "print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        con = duckdb.connect(str(warehouse), read_only=True)  # a BI tool and a notebook at once
        assert con.execute("select count(*) from marts.rpt_signal_scorecard").fetchone()[0] == 21
        con.close()
    finally:
        holder.kill()
        holder.wait()
