"""An audit built day by day equals one built at once on the same data, mart row for mart row.

Every event-level model is incremental and the daily marts rebuild only the days that changed
(macros/incremental.sql): new events' days, the days of orders loaded or moved, the days of
events whose order arrived late. This pins that the shortcut never changes a number.
"""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import duckdb
from audit_harness import build

from pipelines.load import run_load
from signal_audit.demo import generate_shop, preset
from signal_audit_core.config import Config, InputsConfig

MARTS = ("fct_conversion_gap_daily", "fct_conversion_gap_by_path", "fct_match_quality_daily",
         "fct_match_key_coverage_daily", "fct_field_coverage_daily", "fct_dedup_daily",
         "fct_event_latency_daily", "rpt_signal_scorecard")


def split_by_day(shop: Path, out: Path, last_day: str) -> tuple[InputsConfig, InputsConfig]:
    """Write the shop's inputs as 'before last_day' and 'last_day onwards' files."""
    out.mkdir(parents=True)
    with open(shop / "orders.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for part, keep in (("early", lambda r: r["created_at"][:10] < last_day),
                       ("late", lambda r: r["created_at"][:10] >= last_day)):
        with open(out / f"orders_{part}.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(r for r in rows if keep(r))
    with gzip.open(shop / "delivery_log.jsonl.gz", "rt") as fh:
        lines = fh.read().splitlines()
    early = [ln for ln in lines if json.loads(ln)["sent_at"][:10] < last_day]
    late = [ln for ln in lines if json.loads(ln)["sent_at"][:10] >= last_day]
    (out / "log_early.jsonl").write_text("\n".join(early) + "\n")
    (out / "log_late.jsonl").write_text("\n".join(late) + "\n")
    with open(shop / "platform_reports.csv", newline="") as fh:
        reports = list(csv.DictReader(fh))
    for part, keep in (("early", lambda r: r["date"] < last_day), ("late", lambda r: r["date"] >= last_day)):
        with open(out / f"reports_{part}.csv", "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(reports[0]))
            writer.writeheader()
            writer.writerows(r for r in reports if keep(r))
    first = InputsConfig(orders=(str(out / "orders_early.csv"),), delivery_log=(str(out / "log_early.jsonl"),),
                         platform_reports=(str(out / "reports_early.csv"),))
    everything = InputsConfig(orders=(str(out / "orders_*.csv"),), delivery_log=(str(out / "log_*.jsonl"),),
                              platform_reports=(str(out / "reports_*.csv"),))
    return first, everything


def marts(warehouse: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return {m: sorted((_rounded(r) for r in con.execute(f"select * from marts.{m}").fetchall()), key=repr)
                for m in MARTS}
    finally:
        con.close()


def _rounded(row: tuple) -> tuple:
    # averages summed in another order differ in the last bits; nothing else may differ
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)


def audit_daily_and_at_once(
    first: InputsConfig, everything: InputsConfig, root: Path
) -> tuple[Path, dict[str, list[tuple]]]:
    """Audit `first` then `everything` in one warehouse, `everything` at once in another;
    assert every mart row is the same. The daily warehouse and its marts."""
    daily = root / "daily" / "audit.duckdb"
    run_load(Config(warehouse=daily, inputs=first))
    build(daily)
    run_load(Config(warehouse=daily, inputs=everything))
    build(daily)
    once = root / "once" / "audit.duckdb"
    run_load(Config(warehouse=once, inputs=everything))
    build(once)
    got, expected = marts(daily), marts(once)
    for mart in MARTS:
        assert got[mart] == expected[mart], mart
    return daily, got


def test_day_by_day_equals_all_at_once(tmp_path: Path):
    shop = tmp_path / "shop"
    generate_shop(preset("messy_payloads", days=12, orders_per_day=40), shop)
    first, everything = split_by_day(shop, tmp_path / "split", last_day="2026-10-30")

    _, both = audit_daily_and_at_once(first, everything, tmp_path)
    assert len(both["fct_conversion_gap_daily"]) >= 36  # 12 days x 3 platforms at least


def test_late_and_reexported_orders_equal_all_at_once(tmp_path: Path):
    """Orders exported after their events, a cancellation and a re-dated order: the days they
    touch are recomputed, and a build with nothing new changes nothing."""
    shop = tmp_path / "shop"
    generate_shop(preset("messy_payloads", days=12, orders_per_day=40), shop)
    split = tmp_path / "split"
    first, everything = split_by_day(shop, split, last_day="2026-10-30")

    with open(split / "orders_early.csv", newline="") as fh:
        early = list(csv.DictReader(fh))
    counted = [r for r in early if r["status"] == "paid"]
    held = counted[::10]  # exported a day late: their events arrive first
    cancelled, redated = counted[1], counted[2]
    fixed = [cancelled | {"status": "cancelled"}, redated | {"created_at": "2026-10-25T09:30:00Z"}]
    held_ids = {r["order_id"] for r in held}
    _write(split / "orders_early.csv", [r for r in early if r["order_id"] not in held_ids])
    _write(split / "orders_held.csv", held)
    _write(split / "orders_zfixed.csv", fixed)  # after orders_early: the later row of an order wins

    daily, got = audit_daily_and_at_once(first, everything, tmp_path)
    assert redated["created_at"][:10] != "2026-10-25" and len(held) >= 10

    build(daily)  # nothing new arrived
    assert marts(daily) == got


def _write(path: Path, rows: list[dict[str, str]]) -> None:
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
