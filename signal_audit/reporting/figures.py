"""The report's charts, as plotly figures. One function per chart; each returns None when
the window holds nothing to draw, so the page can say so instead of showing empty axes."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from signal_audit.reporting.data import ReportData, cause_checks

_COLORS = {"meta": "#1877F2", "tiktok": "#EE1D52", "snap": "#C9A100"}
_FALLBACK = ("#6A3D9A", "#33A02C", "#FF7F00", "#1F78B4", "#B15928")
_STATUS_COLORS = {"fail": "#C62828", "warn": "#EF8F00", "pass": "#2E7D32", "no_data": "#9E9E9E"}
_LAYOUT = dict(
    template="plotly_white",
    font=dict(family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif", size=13),
    margin=dict(l=60, r=30, t=40, b=50),
    legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    hovermode="x unified",
)


def color(data: ReportData, platform: str) -> str:
    if platform in _COLORS:
        return _COLORS[platform]
    extra = [p for p in data.platforms if p not in _COLORS]
    return _FALLBACK[extra.index(platform) % len(_FALLBACK)] if platform in extra else _FALLBACK[0]


def _dates(frame: pd.DataFrame) -> list[str]:
    return [d.isoformat() for d in pd.to_datetime(frame.report_date).dt.date]


def _values(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series]


def gap_daily(data: ReportData) -> go.Figure | None:
    frame = data.gap_daily[data.gap_daily.gap_pct.notna()]
    if frame.empty:
        return None
    threshold = float(data.settings.get("gap_threshold", 0.1))
    fig = go.Figure()
    for platform in data.platforms:
        rows = frame[frame.platform == platform]
        if rows.empty:
            continue
        fig.add_trace(go.Scatter(
            x=_dates(rows), y=_values(rows.gap_pct), mode="lines+markers", name=data.name(platform),
            line=dict(color=color(data, platform), width=2),
            customdata=list(zip(rows.backend_purchases.astype(int),
                                [None if pd.isna(v) else int(v) for v in rows.platform_reported_purchases],
                                strict=True)),
            hovertemplate="%{y:.1%} gap (backend %{customdata[0]}, platform %{customdata[1]})<extra>"
                          + data.name(platform) + "</extra>",
        ))
    for sign, text in ((1, "under-counted"), (-1, "over-counted")):
        fig.add_hline(y=sign * threshold, line=dict(color=_STATUS_COLORS["fail"], dash="dash", width=1.5),
                      annotation_text=f"{text} at {threshold:.0%}", annotation_position="top left")
    fig.add_hline(y=0, line=dict(color="#555", width=1))
    fig.update_layout(**_LAYOUT, height=420)
    fig.update_yaxes(tickformat=".0%", title="gap")
    return fig


def waterfall(data: ReportData) -> go.Figure | None:
    frame = data.waterfall
    if frame.empty:
        return None
    platforms = [p for p in data.platforms if p in set(frame.platform)]
    fig = make_subplots(rows=1, cols=len(platforms), shared_yaxes=True,
                        subplot_titles=[data.name(p) for p in platforms], horizontal_spacing=0.03)
    for col, platform in enumerate(platforms, start=1):
        steps = frame[frame.platform == platform].sort_values("step_order")
        if steps.orders.iloc[-1] is None or pd.isna(steps.orders.iloc[-1]):
            # no platform report in the window: the steps up to what the platform accepted
            steps = steps[steps.step_order <= steps[steps.step == "orders_accepted"].step_order.iloc[0]]
        first = steps.index[0]
        measures = ["absolute" if i == first else "total" if kind == "total" else "relative"
                    for i, kind in zip(steps.index, steps.step_kind, strict=True)]
        values = [int(o) if m == "absolute" else 0 if m == "total" else int(c)
                  for o, c, m in zip(steps.orders, steps.orders_change, measures, strict=True)]
        text = [f"{int(c):+,}" if m == "relative" else f"{int(o):,}"
                for o, c, m in zip(steps.orders, steps.orders_change, measures, strict=True)]
        fig.add_trace(go.Waterfall(
            x=list(steps.step_label), y=values, measure=measures, name=data.name(platform),
            text=text, textposition="outside", cliponaxis=False, showlegend=False,
            connector=dict(line=dict(color="#999", width=1, dash="dot")),
            increasing=dict(marker=dict(color="#EF8F00")),
            decreasing=dict(marker=dict(color=_STATUS_COLORS["fail"])),
            totals=dict(marker=dict(color=color(data, platform))),
            hovertemplate="%{x}: %{text}<extra>" + data.name(platform) + "</extra>",
        ), row=1, col=col)
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, height=520)
    fig.update_xaxes(tickangle=-40)
    fig.update_yaxes(title="orders", row=1, col=1)
    return fig


def key_coverage(data: ReportData) -> go.Figure | None:
    frame = data.key_coverage[data.key_coverage.events > 0]
    if frame.empty:
        return None
    keys = frame.sort_values("key_order").match_key.drop_duplicates().tolist()
    platforms = [p for p in data.platforms if p in set(frame.platform)]
    lookup = {(r.platform, r.match_key): r for r in frame.itertuples()}
    z, text = [], []
    for platform in platforms:
        z.append([_cov(lookup.get((platform, k))) for k in keys])
        text.append([_cov_text(lookup.get((platform, k))) for k in keys])
    fig = go.Figure(go.Heatmap(
        z=z, x=keys, y=[data.name(p) for p in platforms], text=text, texttemplate="%{text}",
        zmin=0, zmax=1, colorscale="RdYlGn", xgap=2, ygap=2,
        colorbar=dict(title="coverage", tickformat=".0%"),
        hovertemplate="%{y}, %{x}: %{text} of purchase events<extra></extra>",
    ))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest"}, height=140 + 70 * len(platforms))
    fig.update_yaxes(autorange="reversed")
    return fig


def _cov(row) -> float | None:
    return None if row is None or pd.isna(row.coverage_pct) else float(row.coverage_pct)


def _cov_text(row) -> str:
    return "" if row is None or pd.isna(row.coverage_pct) else f"{row.coverage_pct:.0%}"


def dedup_daily(data: ReportData) -> go.Figure | None:
    frame = data.dedup_daily[data.dedup_daily.dedup_rate.notna()]
    if frame.empty:
        return None
    fig = go.Figure()
    for platform in data.platforms:
        rows = frame[frame.platform == platform]
        if rows.empty:
            continue
        fig.add_trace(go.Scatter(
            x=_dates(rows), y=_values(rows.dedup_rate), mode="lines+markers", name=data.name(platform),
            line=dict(color=color(data, platform), width=2),
            customdata=list(zip(rows.matching_event_id_orders.astype(int), rows.orders_with_both.astype(int),
                                rows.double_count_risk_orders.astype(int), strict=True)),
            hovertemplate="%{y:.0%} deduplicated (%{customdata[0]} of %{customdata[1]} orders; "
                          "%{customdata[2]} counted twice)<extra>" + data.name(platform) + "</extra>",
        ))
    _threshold_lines(fig, data, "dedup_rate_pass", "dedup_rate_floor")
    fig.update_layout(**_LAYOUT, height=380)
    fig.update_yaxes(tickformat=".0%", title="deduplicated", rangemode="tozero")
    return fig


def latency_daily(data: ReportData) -> go.Figure | None:
    frame = data.latency_daily[data.latency_daily.within_threshold_pct.notna()]
    if frame.empty:
        return None
    minutes = float(data.settings.get("latency_threshold_seconds", 3600)) / 60
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        subplot_titles=(f"share sent within {minutes:.0f} minutes of the order",
                                        f"95th percentile delay in minutes, log scale (dashed: {minutes:.0f} min)"))
    for platform in data.platforms:
        rows = frame[frame.platform == platform]
        if rows.empty:
            continue
        style = dict(color=color(data, platform), width=2)
        fig.add_trace(go.Scatter(
            x=_dates(rows), y=_values(rows.within_threshold_pct), mode="lines+markers", name=data.name(platform),
            line=style, legendgroup=platform,
            hovertemplate="%{y:.1%} on time<extra>" + data.name(platform) + "</extra>",
        ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=_dates(rows), y=[None if v is None else max(v, 0.1) for v in _values(rows.p95_latency_minutes)],
            mode="lines+markers", name=data.name(platform), line=style, legendgroup=platform, showlegend=False,
            customdata=list(zip(rows.events_too_old.astype(int), strict=True)),
            hovertemplate="p95 %{y:,.0f} min (%{customdata[0]} too old)<extra>" + data.name(platform) + "</extra>",
        ), row=2, col=1)
    _threshold_lines(fig, data, "timeliness_pass", "timeliness_floor", row=1)
    # the threshold as a line trace: shapes and annotations disagree about log axes
    days = sorted(set(_dates(frame)))
    fig.add_trace(go.Scatter(
        x=[days[0], days[-1]], y=[minutes, minutes], mode="lines", showlegend=False, hoverinfo="skip",
        line=dict(color=_STATUS_COLORS["warn"], dash="dash", width=1.5), name=f"{minutes:.0f} min",
    ), row=2, col=1)
    fig.update_layout(**_LAYOUT, height=620)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_yaxes(type="log", row=2, col=1)
    return fig


def _threshold_lines(fig: go.Figure, data: ReportData, pass_name: str, floor_name: str, **where) -> None:
    for name, status, label in ((pass_name, "pass", "pass at"), (floor_name, "fail", "fails below")):
        value = data.settings.get(name)
        if isinstance(value, int | float) and not isinstance(value, bool):
            fig.add_hline(y=value, line=dict(color=_STATUS_COLORS[status], dash="dash", width=1.5),
                          annotation_text=f"{label} {value:.0%}", annotation_position="bottom left", **where)


def causes(data: ReportData, top: int = 10) -> go.Figure | None:
    shown = data.causes.head(top)
    if shown.empty:
        return None
    shown = shown.iloc[::-1]  # plotly draws the first bar at the bottom
    fig = go.Figure(go.Bar(
        x=[int(v) for v in shown.affected], y=[_wrap(f"{c.cause_rank}. {c.cause}") for c in shown.itertuples()],
        orientation="h", marker=dict(color=[_STATUS_COLORS[s] for s in shown.status]),
        text=[f"{c.affected:,} {c.unit}" for c in shown.itertuples()], textposition="auto",
        customdata=[[cause_checks(c), c.status] for c in shown.itertuples()],
        hovertemplate="%{text}<br>checks: %{customdata[0]} (%{customdata[1]})<extra></extra>",
    ))
    fig.update_layout(**{**_LAYOUT, "hovermode": "closest", "margin": dict(l=20, r=30, t=20, b=50)},
                      height=120 + 48 * len(shown))
    fig.update_yaxes(automargin=True)
    fig.update_xaxes(title="orders / purchase events in the window")
    return fig


def _wrap(text: str, width: int = 60) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "<br>".join(lines)

