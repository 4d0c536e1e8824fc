"""What people read: the HTML audit report and the terminal scorecard."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signal_audit_core.targets import Target

REPORT_FILE = "signal_audit_report.html"


def default_report_path(where: Target | Path) -> Path:
    """`<warehouse dir>/report/signal_audit_report.html`: beside the warehouse it describes; on
    a database server, in the target's local folder (`<warehouse dir>/postgres-<host>-...`)."""
    from signal_audit_core.targets import as_target

    target = as_target(where)
    folder = target.duckdb_file.parent if target.duckdb_file is not None else target.home
    return folder / "report" / REPORT_FILE


def parse_report_section(raw: Any, base: Path) -> Path | None:
    """The optional `report:` section of signal_audit.yml, for config.py to call.

        report:
          path: reports/tracking.html   # default: <warehouse folder>/report/signal_audit_report.html

    `base` is the config file's folder (relative paths are read from there, like inputs).
    """
    from signal_audit_core.config import ConfigError

    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - {"path"}:
        raise ConfigError("the report section takes one setting, path: the HTML file to write")
    path = raw.get("path")
    if path is None:
        return None
    if not isinstance(path, str) or not path.strip() or not path.lower().endswith((".html", ".htm")):
        raise ConfigError(f"report.path must name an .html file, got {path!r}")
    return (base / path).resolve()


def write_report(
    where: Target | Path,
    out: Path | None = None,
    changes: Sequence[tuple[str, str, str, str]] = (),
) -> Path:
    """Write the report for `where` (a target, or a DuckDB file; read-only) to `out`; return
    the path written (default: beside the warehouse file, or in the target's local folder).

    `changes` are (platform, check, previous status, new status) since the previous run.
    The page is written to a temporary file and renamed, so a reader never sees half a page.
    """
    from signal_audit.reporting.data import load_report_data
    from signal_audit.reporting.page import render_page
    from signal_audit_core.targets import as_target

    target = as_target(where)
    out = (out or default_report_path(target)).resolve()
    data = load_report_data(target)
    page = render_page(data, changes=changes,
                       generated_at=dt.datetime.now(dt.UTC), source=target.label)
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    partial.write_text(page, encoding="utf-8")
    partial.replace(out)
    return out
