"""Which platforms had nothing to judge in the audit window, in sentences a user can act on.

No data is not a crash and not a pass: the scorecard says no_data, and the CLI says why in
one line per platform (the usual reasons: a platform in `audit.platforms` the shop does not
use, a report export for another month, or statuses that match no order).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from signal_audit.reporting.data import reading_marts, rows
from signal_audit_core.targets import Target


@dataclass(frozen=True)
class MissingData:
    warnings: tuple[str, ...]
    platforms_without_data: tuple[str, ...]  # every check no_data: nothing seen at all


def missing_data(where: Target | Path) -> MissingData:
    with reading_marts(where) as con:
        platforms = json.loads(rows(
            con, "select setting_json from marts.audit_settings where setting_name = 'platforms'")[0][0])
        names = dict(rows(con, "select platform, display_name from reference.platforms"))
        card = rows(con, "select platform, check_name, status, window_start, window_end "
                         "from marts.rpt_signal_scorecard")
        if not card or card[0][4] is None:
            return MissingData(("no backend orders were loaded, so there is no audit window and nothing to "
                                "judge: check inputs.orders",), tuple(platforms))
        start, end = card[0][3], card[0][4]
        window = f"{start} to {end}"
        backend = rows(
            con, "select coalesce(sum(backend_purchases), 0) from marts.fct_conversion_gap_daily "
                 "where report_date between :start and :end", {"start": start, "end": end})[0][0]
        statuses = [s for (s,) in rows(
            # the statuses as landed (staging keeps them as they are; on Spark staging is views
            # the readers do not see)
            con, "select status from raw.orders group by status order by count(*) desc limit 5")]

    warnings: list[str] = []
    if backend == 0:
        warnings.append(
            f"no order in the window {window} counts as a purchase: check that orders.columns maps your "
            f"status column and that audit.counted_statuses names your statuses (most common: "
            f"{', '.join(map(str, statuses)) or 'none'})"
        )
    by_platform: dict[str, dict[str, str]] = {}
    for platform, check, status, _, _ in card:
        by_platform.setdefault(platform, {})[check] = status
    empty = []
    for platform in platforms:
        name = names.get(platform, platform)
        checks = by_platform.get(platform, {})
        if not checks or all(s == "no_data" for s in checks.values()):
            empty.append(platform)
            warnings.append(
                f"no {name} data in the window {window}: no server events and no report rows, so every "
                f"{name} check says no_data (remove {platform} from audit.platforms if you don't use {name})"
            )
        elif checks.get("conversion_gap") == "no_data" and backend > 0:
            warnings.append(
                f"no {name} report rows in the window {window}: the conversion gap cannot be judged "
                f"(add {name}'s daily report to platform_reports, for the same days as the orders)"
            )
    return MissingData(tuple(warnings), tuple(empty))
