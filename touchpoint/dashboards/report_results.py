"""The report's campaign results: the rows of the results panel as a table whose last column draws each uplift's
95 % interval as a bar on one axis shared by every row (zero marked, so "below zero" is seen, not read), the
guardrail's state of each campaign, and each campaign's variant share over time as stacked bars."""

from __future__ import annotations

from typing import Any

from touchpoint.dashboards.report_format import count, escape, minute, percent
from touchpoint.dashboards.results import axis, points, shares

#: The interval bar's size (px).
BAR_W, BAR_H = 240, 18
#: Colours: an interval wholly above zero, wholly below, across it; the variants of the share chart in turn.
ABOVE, BELOW, ACROSS = "#2e7d32", "#c62828", "#607d8b"
VARIANT_COLOURS = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f")


def interval_svg(low: float, mid: float, high: float, half: float) -> str:
    """``[low, high]`` with ``mid`` on an axis of ``-half .. +half``, as inline SVG."""

    def x(v: float) -> float:
        return round(4 + (min(max(v, -half), half) + half) / (2 * half) * (BAR_W - 8), 1)

    colour = ABOVE if low > 0 else BELOW if high < 0 else ACROSS
    mid_y = BAR_H / 2
    return (
        f'<svg class="interval" width="{BAR_W}" height="{BAR_H}" viewBox="0 0 {BAR_W} {BAR_H}" '
        f'data-low="{low:.4f}" data-high="{high:.4f}" role="img" aria-label="uplift {points(mid)} '
        f'[{points(low)}, {points(high)}]">'
        f'<line class="zero" x1="{x(0)}" x2="{x(0)}" y1="1" y2="{BAR_H - 1}" stroke="#999" stroke-dasharray="2,2"/>'
        f'<line x1="{x(low)}" x2="{x(high)}" y1="{mid_y}" y2="{mid_y}" stroke="{colour}" stroke-width="4"/>'
        f'<circle cx="{x(mid)}" cy="{mid_y}" r="4" fill="{colour}"/></svg>'
    )


def render_results(rows: list[dict[str, Any]], share: list[dict[str, Any]]) -> str:
    if not rows:
        return '<p class="empty">No leads yet.</p>'
    half = axis(rows)
    head = (
        "<tr><th class='text'>campaign</th><th class='text'>arm</th><th class='int'>leads</th>"
        "<th class='int'>delivered</th><th class='int'>converted</th><th class='pct'>conversion</th>"
        "<th class='pct'>uplift</th><th class='text'>95 % interval</th>"
        f"<th class='text'>−{half * 100:.0f} pt · 0 · +{half * 100:.0f} pt</th></tr>"
    )
    body, guardrail = [], {}
    for r in rows:
        estimated = r["estimate"] == "yes"
        interval = f"[{points(r['ci_low'])}, {points(r['ci_high'])}]" if estimated else ""
        bar = interval_svg(r["ci_low"], r["uplift"], r["ci_high"], half) if estimated else ""
        note = "" if estimated or r["arm"] == "control" else "not enough data"
        body.append(
            f'<tr data-campaign="{escape(r["campaign"])}" data-arm="{escape(r["arm"])}">'
            f'<td class="text">{escape(r["campaign"])}</td><td class="text">{escape(r["arm"])}</td>'
            f'<td class="int">{count(r["leads"])}</td><td class="int">{count(r["delivered"])}</td>'
            f'<td class="int">{count(r["converted"])}</td><td class="pct">{percent(r["conversion_rate"])}</td>'
            f'<td class="pct">{points(r["uplift"]) if estimated else ""}</td>'
            f'<td class="text">{escape(interval or note)}</td><td class="ci">{bar}</td></tr>'
        )
        if r.get("guardrail"):
            guardrail[r["campaign"]] = r["guardrail"]
    paused = "".join(
        f'<li class="guardrail {"paused" if state.startswith("paused") else "resumed"}" '
        f'data-campaign="{escape(c)}"><b>{escape(c)}</b>: {escape(state)}</li>'
        for c, state in guardrail.items()
    )
    return (
        f'<table class="results"><thead>{head}</thead><tbody>{"".join(body)}</tbody></table>'
        + (f'<ul class="guardrails">{paused}</ul>' if paused else "")
        + render_share(share)
    )


def render_share(share: list[dict[str, Any]]) -> str:
    """Per campaign with variants, one stacked bar per interval: each variant's share of its treatment leads."""
    out = []
    for campaign, series in shares(share).items():
        variants = sorted({v for _, by in series for v in by})
        colour = {v: VARIANT_COLOURS[i % len(VARIANT_COLOURS)] for i, v in enumerate(variants)}
        w, h, gap = 32, 90, 4
        bars = []
        for i, (t, by) in enumerate(series):
            y = 0.0
            for v in variants:
                part = by.get(v, 0.0) * h
                if part:
                    bars.append(
                        f'<rect x="{i * (w + gap)}" y="{y:.1f}" width="{w}" height="{part:.1f}" fill="{colour[v]}">'
                        f"<title>{escape(minute(t))} {escape(v)}: {percent(by[v], 0)}</title></rect>"
                    )
                    y += part
        legend = " ".join(
            f'<span class="key"><span class="swatch" style="background:{colour[v]}"></span>{escape(v)}</span>'
            for v in variants
        )
        width = max(len(series) * (w + gap), 1)
        out.append(
            f'<figure class="share" data-campaign="{escape(campaign)}"><figcaption>{escape(campaign)}: variant '
            f"share of treatment leads over time · {legend}</figcaption>"
            f'<svg width="{width}" height="{h}" viewBox="0 0 {width} {h}">{"".join(bars)}</svg></figure>'
        )
    return "".join(out)
