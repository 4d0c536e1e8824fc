"""The scorecard as text for the terminal."""

from __future__ import annotations

import textwrap
from pathlib import Path

from signal_audit.reporting.checks import status_label
from signal_audit.reporting.data import reading_marts
from signal_audit.reporting.data import rows as query
from signal_audit_core.targets import Target


def render_scorecard(where: Target | Path, width: int = 100) -> str:
    with reading_marts(where) as con:
        # checks in the checks seed's display order; one the seed lacks comes last
        rows = query(
            con, """
            select card.platform, card.check_name, card.status, card.summary, card.window_start, card.window_end
            from marts.rpt_signal_scorecard as card
            left join reference.checks as checks on card.check_name = checks.check_name
            order by card.platform, checks.display_order nulls last, card.check_name
            """
        )
    if not rows:
        return "The scorecard is empty: no platform is audited."
    start, end = rows[0][4], rows[0][5]
    if end is None:
        return "The scorecard is empty: no backend orders were loaded, so there is no audit window."
    lines = [f"Signal scorecard, {start} to {end}", ""]
    current = None
    for platform, check, status, summary, _, _ in rows:
        if platform != current:
            if current is not None:
                lines.append("")
            lines.append(platform.upper())
            current = platform
        head = f"  [{status_label(status):>7}] {check}: "
        body = textwrap.wrap(summary, width=width - len(head)) or [""]
        lines.append(head + body[0])
        lines.extend(" " * len(head) + more for more in body[1:])
    failed = sum(1 for r in rows if r[2] == "fail")
    lines += ["", f"{failed} failing check(s) of {len(rows)}."]
    return "\n".join(lines)
