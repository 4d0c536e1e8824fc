"""Platforms' own Events Manager exports (TikTok, Snap) as platform reports, through a mapping."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sources_helpers import query

from pipelines.files import InputError
from pipelines.load import run_load
from signal_audit_core.config import load_config

CONFIG = """
warehouse: wh/audit.duckdb
platform_reports:
  exports:
    - files: exports/tiktok_*.csv
      platform: TikTok
      pixel_id: CABC123
      date_format: "%m/%d/%Y"
      columns: {date: Date, event_name: Event, events_received: Total Events, match_quality_score: EMQ Score}
    - files: exports/snap.csv
      platform: snap
      columns: {date: Day, pixel_id: Pixel, event_name: Event Type, events_received: Events,
                events_matched: Matched Events}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_exports_load_into_platform_reports_through_their_mapping(tmp_path):
    write(tmp_path / "exports" / "tiktok_may.csv",
          'Date,Event,Total Events,EMQ Score,Connection Method\n'
          '05/01/2026,CompletePayment,"1,234",6.2,Server & Browser\n'
          '05/02/2026,CompletePayment,980,-,Server & Browser\n'
          '2026-05-03,CompletePayment,5,6.0,Browser\n')
    write(tmp_path / "exports" / "snap.csv",
          "Day,Pixel,Event Type,Events,Matched Events\n2026-05-01,S1,PURCHASE,300,210\n2026-05-01,S1,PAGE_VIEW,--,\n")
    config = load_config(write(tmp_path / "signal_audit.yml", CONFIG))
    assert config.has_inputs
    report = run_load(config)

    assert report.counts["platform_reports"].loaded == 3
    assert query(config, "select report_date, platform, pixel_id, event_name, events_received, events_matched, "
                         "match_quality_score from raw.platform_reports order by all") == [
        (dt.date(2026, 5, 1), "snap", "S1", "PURCHASE", 300, 210, None),
        (dt.date(2026, 5, 1), "tiktok", "CABC123", "CompletePayment", 1234, None, 6.2),
        (dt.date(2026, 5, 2), "tiktok", "CABC123", "CompletePayment", 980, None, None),
    ]
    assert query(config, "select source_line, reason from raw.rejected_rows order by 1") == [
        (3, "missing events_received"),
        (4, "date '2026-05-03' does not match date_format '%m/%d/%Y'"),
    ]
    assert str(tmp_path / "exports" / "snap.csv") in report.files["platform_reports"]


def test_an_export_without_a_mapped_column_or_of_an_unknown_platform_is_a_clear_error(tmp_path):
    write(tmp_path / "exports" / "tiktok_1.csv", "Date,Event,Events received\n05/01/2026,Purchase,3\n")
    write(tmp_path / "exports" / "snap.csv", "Day,Pixel,Event Type,Events,Matched Events\n")
    config = load_config(write(tmp_path / "signal_audit.yml", CONFIG))
    with pytest.raises(InputError, match=r"tiktok export .*tiktok_1.csv has no column 'Total Events' "
                                         r"\(for events_received\); its columns are: Date, Event, Events received"):
        run_load(config)

    config = load_config(write(tmp_path / "signal_audit.yml", CONFIG.replace("platform: snap", "platform: pinterest")))
    with pytest.raises(InputError, match=r"platform_reports.exports\[1\].platform 'pinterest' is not a known "
                                         r"platform \(known: meta, snap, tiktok\)"):
        run_load(config)
