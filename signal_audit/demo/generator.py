"""Generate a demo shop: the three audit inputs plus truth.json, deterministically from a seed."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterable
from pathlib import Path

from signal_audit.demo.delivery import EventFact, LogLine, deliver
from signal_audit.demo.orders import generate_orders
from signal_audit.demo.profiles import ShopConfig
from signal_audit.demo.report import REPORT_COLUMNS, ReportRow, platform_report
from signal_audit.demo.truth import Truth, compute_truth
from signal_audit_core.config import ORDER_COLUMNS

ORDERS_FILE = "orders.csv"
DELIVERY_LOG_FILE = "delivery_log.jsonl.gz"
REPORTS_FILE = "platform_reports.csv"
TRUTH_FILE = "truth.json"


def generate_shop(config: ShopConfig, out_dir: Path | str) -> Truth:
    """Write the shop's files into `out_dir` and return what the audit must find in them."""
    out_dir = Path(out_dir)
    orders = generate_orders(config)
    lines: list[LogLine] = []
    events: list[EventFact] = []
    report: list[ReportRow] = []
    for platform in config.platform_names:
        delivery = deliver(platform, config.platforms[platform], orders, config.seed)
        lines.extend(delivery.lines)
        events.extend(delivery.facts)
        report.extend(platform_report(platform, delivery.facts, config.dates))
    lines.sort(key=lambda line: line.sent_at)  # stable: ties keep platform and generation order
    truth = compute_truth(config, orders, events, report)

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv(out_dir / ORDERS_FILE, ORDER_COLUMNS, (o.csv_row() for o in orders))
    _write_csv(out_dir / REPORTS_FILE, REPORT_COLUMNS, (r.csv_row() for r in report))
    log = "".join(json.dumps(line.record, separators=(",", ":")) + "\n" for line in lines)
    # mtime=0 and no file name in the header: same seed, same bytes.
    (out_dir / DELIVERY_LOG_FILE).write_bytes(gzip.compress(log.encode("utf-8"), 6, mtime=0))
    (out_dir / TRUTH_FILE).write_text(json.dumps(truth.to_json(), indent=2) + "\n",
                                      encoding="utf-8")
    return truth


def _write_csv(path: Path, columns: tuple[str, ...], rows: Iterable[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
