"""The audit report as one self-contained HTML page: styles, plotly.js and data inline, no
network needed to open it (plotly.js is embedded once, in the head)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from signal_audit.reporting import figures
from signal_audit.reporting.checks import STATUSES, metric_text, status_label, target_text
from signal_audit.reporting.data import ReportData, cause_checks

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}

_CSS = """
:root { --fail:#C62828; --warn:#EF8F00; --pass:#2E7D32; --none:#757575; --ink:#1d1d1f; --muted:#5f6368;
        --line:#e3e3e3; --bg:#fafafa; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--ink);
       background:var(--bg); }
header { background:#fff; border-bottom:1px solid var(--line); padding:24px 40px 16px; }
header h1 { margin:0 0 4px; font-size:26px; }
header p { margin:2px 0; color:var(--muted); }
nav { position:sticky; top:0; z-index:5; background:#fff; border-bottom:1px solid var(--line); padding:8px 40px; }
nav a { margin-right:18px; color:#1a5fb4; text-decoration:none; font-size:14px; }
main { max-width:1320px; margin:0 auto; padding:8px 40px 40px; }
section { background:#fff; border:1px solid var(--line); border-radius:8px; padding:20px 24px; margin:20px 0; }
h2 { margin:0 0 6px; font-size:21px; }
h3 { margin:18px 0 6px; font-size:17px; }
p.lead { margin:0 0 12px; color:var(--muted); max-width:980px; }
table { border-collapse:collapse; width:100%; }
th, td { text-align:left; vertical-align:top; padding:7px 10px; border-bottom:1px solid var(--line); }
th { font-size:13px; color:var(--muted); font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.badge { display:inline-block; min-width:64px; text-align:center; padding:2px 8px; border-radius:12px;
         font-size:12px; font-weight:700; color:#fff; letter-spacing:.03em; }
.badge.fail { background:var(--fail); } .badge.warn { background:var(--warn); }
.badge.pass { background:var(--pass); } .badge.no_data { background:var(--none); }
.matrix td, .matrix th { text-align:center; } .matrix td:first-child, .matrix th:first-child { text-align:left; }
.summary { max-width:760px; }
.totals { display:flex; gap:16px; flex-wrap:wrap; margin:8px 0 16px; }
.totals div { border:1px solid var(--line); border-radius:8px; padding:8px 14px; min-width:120px; }
.totals b { display:block; font-size:22px; }
.no-data { color:var(--muted); font-style:italic; }
figure.chart { margin:0; }
dl.defs dt { font-weight:600; margin-top:8px; } dl.defs dd { margin:0 0 0 0; color:var(--muted); max-width:980px; }
footer { text-align:center; color:var(--muted); font-size:13px; padding:10px 0 30px; }
"""


def render_page(
    data: ReportData,
    changes: Sequence[tuple[str, str, str, str]] = (),
    generated_at: dt.datetime | None = None,
    source: str = "",
) -> str:
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    charts = [
        ("gap", "gap_daily", "The conversion gap by day", figures.gap_daily,
         "Backend purchases the platform did not count, as a share of backend purchases, per day. The dashed "
         "lines are the gap threshold in either direction: above the upper one purchases are lost, below the "
         "lower one the platform counts purchases twice."),
        ("waterfall", "waterfall", "Where purchases get lost (or double counted)", figures.waterfall,
         "Over the window, per platform: your backend purchases, minus the orders your server never sent, "
         "minus those it sent but the platform rejected, gives the orders accepted. The platform then adds "
         "purchases it only heard of from its pixel and orders it counts twice (pixel and server events "
         "that share no event_id); the rest is the platform's own difference (events for orders that do "
         "not count, reporting-day shifts). The last bar is what the platform's report counted."),
        ("match-keys", "key_coverage", "Match-key coverage", figures.key_coverage,
         "Share of server purchase events in the window carrying each customer key in a valid form (hashed "
         "keys: 64 lowercase hex characters). Email and phone weigh most in matching."),
        ("dedup", "dedup_daily", "Deduplication by day", figures.dedup_daily,
         "Of the orders that both the pixel and your server reported, the share whose two events share an "
         "event_id and event name within the dedup window. The rest the platform counts twice."),
        ("latency", "latency_daily", "Latency by day", figures.latency_daily,
         "How soon after the order the server purchase event left: the share sent within the latency "
         "threshold (top) and the 95th percentile delay (bottom, log scale)."),
    ]

    parts = [_head(data, generated_at, source), _nav(charts), "<main>"]
    if not data.has_data:
        parts.append('<section id="scorecard"><h2>Scorecard</h2><p class="no-data">The scorecard is empty: '
                     "no backend orders were loaded, so there is nothing to audit.</p></section>")
    else:
        parts.append(_scorecard(data))
        if changes:
            parts.append(_changes(data, changes))
        parts.append(_causes(data))
        for anchor, key, title, draw, lead in charts:
            extra = _waterfall_table(data) if key == "waterfall" else ""
            parts.append(_chart_section(anchor, key, title, draw(data), lead, extra))
    parts.append(_definitions(data))
    parts.append("</main>")
    parts.append(f"<footer>signal-audit report, generated {generated_at:%Y-%m-%d %H:%M} UTC. "
                 "Everything on this page is computed from the marts in your warehouse; nothing left "
                 "your machine.</footer></body></html>")
    return "\n".join(parts)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _head(data: ReportData, generated_at: dt.datetime, source: str) -> str:
    window = (f"{data.window_start} to {data.window_end}" if data.window_end else "no audit window (no orders)")
    platforms = ", ".join(data.name(p) for p in data.platforms) or "none"
    tz = data.settings.get("reporting_timezone", "UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Signal audit report, {_e(window)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head><body>
<header>
<h1>Is your server-side tracking working?</h1>
<p>Audit window <b>{_e(window)}</b> (days in {_e(tz)}) &middot; platforms: {_e(platforms)}</p>
<p>Generated {generated_at:%Y-%m-%d %H:%M} UTC{' from ' + _e(source) if source else ''}</p>
</header>"""


def _nav(charts) -> str:
    links = [("scorecard", "Scorecard"), ("causes", "Biggest causes")]
    links += [(anchor, title) for anchor, _, title, _, _ in charts]
    links.append(("definitions", "What the numbers mean"))
    return "<nav>" + "".join(f'<a href="#{a}">{_e(t)}</a>' for a, t in links) + "</nav>"


def _scorecard(data: ReportData) -> str:
    card = data.scorecard
    statuses = {(r.platform, r.check_name): r for r in card.itertuples()}
    checks = data.check_order()
    counts = card.status.value_counts().to_dict()

    out = ['<section id="scorecard"><h2>Scorecard</h2>',
           '<p class="lead">One verdict per platform and check over the audit window. A check without data '
           "says NO DATA, never PASS. The sentences are the scorecard's own (marts.rpt_signal_scorecard).</p>",
           '<div class="totals">']
    for status in STATUSES:
        out.append(f'<div data-total="{status}"><b>{counts.get(status, 0)}</b>'
                   f'<span class="badge {status}">{status_label(status)}</span></div>')
    out.append("</div>")

    out.append('<table class="matrix"><thead><tr><th>check</th>')
    out += [f"<th>{_e(data.name(p))}</th>" for p in data.platforms]
    out.append("</tr></thead><tbody>")
    for check in checks:
        out.append(f"<tr><td>{_e(data.title(check))}</td>")
        for platform in data.platforms:
            row = statuses.get((platform, check))
            status = row.status if row is not None else "no_data"
            metric = metric_text(data.check(check), row.metric_value) if row is not None else ""
            out.append(f'<td><span class="badge {status}">{status_label(status)}</span>'
                       f"<br><small>{_e(metric)}</small></td>")
        out.append("</tr>")
    out.append("</tbody></table>")

    for platform in data.platforms:
        out.append(f'<h3 id="scorecard-{_e(platform)}">{_e(data.name(platform))}</h3>')
        out.append('<table class="scorecard"><thead><tr><th>status</th><th>check</th><th class="num">value</th>'
                   '<th>target</th><th>what it means</th></tr></thead><tbody>')
        for check in checks:
            row = statuses.get((platform, check))
            if row is None:
                continue
            out.append(
                f'<tr class="scorecard-row" data-platform="{_e(platform)}" data-check="{_e(check)}" '
                f'data-status="{_e(row.status)}">'
                f'<td><span class="badge {_e(row.status)}">{status_label(row.status)}</span></td>'
                f"<td>{_e(data.title(check))}<br><small><code>{_e(check)}</code></small></td>"
                f'<td class="num">{_e(metric_text(data.check(check), row.metric_value))}</td>'
                f"<td>{_e(target_text(data.check(check), data.settings, row.threshold))}</td>"
                f'<td class="summary">{_e(row.summary)}</td></tr>'
            )
        out.append("</tbody></table>")
    out.append("</section>")
    return "\n".join(out)


def _changes(data: ReportData, changes: Sequence[tuple[str, str, str, str]]) -> str:
    rows = "".join(
        f'<tr class="change-row"><td>{_e(data.name(p))}</td><td>{_e(data.title(c))}</td>'
        f'<td><span class="badge {_e(old)}">{status_label(old)}</span> &rarr; '
        f'<span class="badge {_e(new)}">{status_label(new)}</span></td></tr>'
        for p, c, old, new in changes
    )
    return ('<section id="changes"><h2>Changed since the previous run</h2>'
            '<table><thead><tr><th>platform</th><th>check</th><th>status</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></section>")


def _causes(data: ReportData) -> str:
    out = ['<section id="causes"><h2>Biggest causes</h2>',
           '<p class="lead">What the failing and warning checks are made of, largest first. Each cause is '
           "counted over the window in the unit it happens in: orders for order-level defects (never sent, "
           "rejected, counted twice), server purchase events for event-level ones (no email, plaintext, late); "
           "in a typical setup one purchase event is one order. Causes behind checks that pass are left out. "
           "Ties go to the cause behind a failing check.</p>"]
    if data.causes.empty:
        out.append('<p class="no-data">No check failed or warned: nothing to fix.</p></section>')
        return "\n".join(out)
    out.append(_figure_html("causes", figures.causes(data)))
    out.append('<table class="causes"><thead><tr><th class="num">#</th><th>platform</th><th>cause</th>'
               '<th class="num">how many</th><th class="num">of backend purchases</th><th>checks</th>'
               "<th>what to fix</th></tr></thead><tbody>")
    for c in data.causes.itertuples():
        share = "" if pd.isna(c.share_of_backend_purchases) else f"{c.share_of_backend_purchases:.1%}"
        out.append(
            f'<tr class="cause-row" data-platform="{_e(c.platform)}" data-impact="{c.affected}">'
            f'<td class="num">{c.cause_rank}</td><td>{_e(data.name(c.platform))}</td><td>{_e(c.cause)}</td>'
            f'<td class="num">{c.affected:,} {_e(c.unit)}</td><td class="num">{share}</td>'
            f'<td><span class="badge {_e(c.status)}">{status_label(c.status)}</span> '
            f"{_e(cause_checks(c))}</td><td>{_e(c.fix)}</td></tr>"
        )
    out.append("</tbody></table></section>")
    return "\n".join(out)


def _chart_section(anchor: str, key: str, title: str, fig: go.Figure | None, lead: str, extra: str = "") -> str:
    return (f'<section id="{anchor}"><h2>{_e(title)}</h2><p class="lead">{_e(lead)}</p>'
            f"{_figure_html(key, fig)}{extra}</section>")


def _figure_html(key: str, fig: go.Figure | None) -> str:
    if fig is None:
        return f'<p class="no-data" data-chart-empty="{key}">Nothing to draw: no data in the audit window.</p>'
    body = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"chart-{key}", config=_PLOTLY_CONFIG)
    return f'<figure class="chart" data-chart="{key}">{body}</figure>'


def _waterfall_table(data: ReportData) -> str:
    frame = data.waterfall
    if frame.empty:
        return ""
    heads = frame.drop_duplicates("step_order").sort_values("step_order").short_label
    out = ['<h3>In numbers</h3><table class="waterfall-numbers"><thead><tr><th>platform</th>']
    out += [f'<th class="num">{_e(label)}</th>' for label in heads]
    out.append("</tr></thead><tbody>")
    for platform in data.platforms:
        rows = frame[frame.platform == platform]
        if rows.empty:
            continue
        out.append(f"<tr><td>{_e(data.name(platform))}</td>")
        out += [f'<td class="num">{_count(value)}</td>' for value in rows.sort_values("step_order").orders]
        out.append("</tr>")
    out.append("</tbody></table>")
    return "\n".join(out)


def _definitions(data: ReportData) -> str:
    s = data.settings
    items = [
        ("Backend purchase", "An order whose status is one of "
         + ", ".join(map(str, s.get("counted_statuses", []))) + " and that is not a test order, on the day it "
         "was placed in " + str(s.get("reporting_timezone", "UTC")) + "."),
        ("Sent and accepted", "An order is sent when your server sent at least one purchase event for it to "
         "the platform, and accepted when at least one of those requests was accepted (HTTP 2xx and no error "
         "in the platform's response)."),
        ("Platform counted", "The purchase events the platform's own report says it received, minus those it "
         "deduplicated, summed over the window."),
        ("Gap", "(backend purchases - platform counted) / backend purchases. Positive: purchases the "
         "platform never learned about. Negative: it counts purchases twice."),
        ("Audit window", f"{s.get('audit_window_days', 30)} days ending on the latest order day unless an end "
         "date is set; every number on this page is over this window."),
        ("Valid", "A key or field counts only when present and valid: hashes are 64 lowercase hex characters, "
         "a currency is a real ISO 4217 code, a value is a number above 0."),
    ]
    body = "".join(f"<dt>{_e(t)}</dt><dd>{_e(d)}</dd>" for t, d in items)
    return ('<section id="definitions"><h2>What the numbers mean</h2><dl class="defs">'
            f"{body}</dl><p class=\"lead\">Every definition is argued in the project's DECISIONLOG.md; every "
            "column is described in the dbt docs.</p></section>")


def _count(value: object) -> str:
    return "" if value is None or pd.isna(value) else f"{int(value):,}"
