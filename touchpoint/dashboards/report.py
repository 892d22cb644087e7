"""``touchpoint report --out report.html``: one self-contained HTML page read from ClickHouse.

For readers without Grafana (a marketer's mailbox, a printout): the micro-region map — every region as a circle at
its centroid on an equirectangular projection, colour = G3 coverage, area ~ subscribers present, each region's
latest published window — the top G3 opportunity regions, and the lead funnel per campaign with the control
group. Everything is inline (CSS, SVG, a little JavaScript for tooltips); the page loads nothing from anywhere.

The numbers come from the dashboards' own panel queries (``grafana/dashboards/``), run for the whole span of the
data with every variable at "All", so the report and Grafana cannot disagree.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from touchpoint import __version__
from touchpoint.config import Settings
from touchpoint.dashboards.check import resolve_variables
from touchpoint.dashboards.macros import TimeRange, expand
from touchpoint.dashboards.model import dashboard_by_uid, panel_sql
from touchpoint.dashboards.queries import Queries, open_queries

#: (dashboard uid, panel id) of the queries the report shows.
MAP_PANEL = ("touchpoint-micro-regions", 1)
TOP_PANEL = ("touchpoint-micro-regions", 3)
FUNNEL_PANEL = ("touchpoint-campaigns", 3)
SUPPRESSED_PANEL = ("touchpoint-campaigns", 4)
CONTROL_PANEL = ("touchpoint-campaigns", 6)
JOURNEY_PANEL = ("touchpoint-campaigns", 8)

MAP_W, MAP_H, PAD = 1000, 600, 56
R_MIN, R_MAX = 6.0, 30.0


@dataclass
class ReportData:
    where: str
    range: TimeRange | None
    regions: list[dict[str, Any]] = field(default_factory=list)
    top: list[dict[str, Any]] = field(default_factory=list)
    funnel: list[dict[str, Any]] = field(default_factory=list)
    suppressed: list[dict[str, Any]] = field(default_factory=list)
    control: list[dict[str, Any]] = field(default_factory=list)
    journeys: list[dict[str, Any]] = field(default_factory=list)


def _panel_rows(queries: Queries, ref: tuple[str, int], rng: TimeRange) -> list[dict[str, Any]]:
    d = dashboard_by_uid(ref[0])
    variables = resolve_variables(queries, d, rng)  # every variable at "All"
    return queries.run(expand(panel_sql(d.panel(ref[1])), rng, variables)).dicts()


def collect(queries: Queries) -> ReportData:
    rng = queries.data_range()
    data = ReportData(f"{queries.backend.describe()}, database {queries.database}", rng)
    if rng is None:
        return data
    data.regions = _panel_rows(queries, MAP_PANEL, rng)
    data.top = _panel_rows(queries, TOP_PANEL, rng)
    data.funnel = _panel_rows(queries, FUNNEL_PANEL, rng)
    data.suppressed = _panel_rows(queries, SUPPRESSED_PANEL, rng)
    data.control = _panel_rows(queries, CONTROL_PANEL, rng)
    data.journeys = _panel_rows(queries, JOURNEY_PANEL, rng)
    return data


def write_report(settings: Settings, out: Path, url: str | None = None) -> str:
    return save(read_data(settings, url), out)


def read_data(settings: Settings, url: str | None = None) -> ReportData:
    """What the report shows, read from ClickHouse with the dashboards' own panel queries."""
    queries = open_queries(settings, url)
    try:
        return collect(queries)
    finally:
        queries.backend.close()


def save(data: ReportData, out: Path) -> str:
    """Write the page atomically; returns a one-line summary."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(render(data), encoding="utf-8")
    tmp.replace(out)
    if data.range is None:
        return f"wrote {out}: no data in ClickHouse yet ({data.where})"
    return (
        f"wrote {out}: {len(data.regions)} regions, {len(data.top)} opportunity regions, "
        f"{len(data.funnel)} campaigns; data {data.range.start:%Y-%m-%d %H:%M} .. "
        f"{data.range.end:%Y-%m-%d %H:%M} UTC from {data.where}"
    )


# --- rendering ------------------------------------------------------------------------------------------------------

#: Red (no G3) -> yellow -> green (all G3), as Grafana's RdYlGr scheme on the dashboard.
_STOPS = [(0.0, (215, 48, 39)), (0.5, (254, 224, 139)), (1.0, (26, 152, 80))]


def coverage_colour(x: float | None) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "#9e9e9e"
    x = min(1.0, max(0.0, float(x)))
    for (a, ca), (b, cb) in zip(_STOPS, _STOPS[1:]):
        if x <= b:
            t = (x - a) / (b - a)
            return "#{:02x}{:02x}{:02x}".format(*tuple(round(p + (q - p) * t) for p, q in zip(ca, cb)))
    return "#{:02x}{:02x}{:02x}".format(*_STOPS[-1][1])


def _html(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _pct(x: Any, digits: int = 1) -> str:
    try:
        return f"{float(x) * 100:.{digits}f}%"
    except (TypeError, ValueError):
        return "–"


def _int(x: Any) -> str:
    try:
        return f"{int(x):,}"
    except (TypeError, ValueError):
        return "–"


def _when(dt: Any) -> str:
    if isinstance(dt, datetime):
        return dt.strftime("%Y-%m-%d %H:%M")
    return str(dt)


def _nice_step(span: float, target: int = 6) -> float:
    raw = span / max(target, 1)
    for s in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0):
        if raw <= s:
            return s
    return 10.0


class Projection:
    """Equirectangular around the regions' mean latitude, fitted into the map box (north up)."""

    def __init__(self, points: list[tuple[float, float]]):
        lats = [p[0] for p in points] or [0.0]
        lons = [p[1] for p in points] or [0.0]
        self.k = math.cos(math.radians(sum(lats) / len(lats)))
        xs, ys = [lon * self.k for lon in lons], lats
        span_x, span_y = max(max(xs) - min(xs), 0.004), max(max(ys) - min(ys), 0.004)
        inner_w, inner_h = MAP_W - 2 * PAD - 2 * R_MAX, MAP_H - 2 * PAD - 2 * R_MAX
        self.scale = min(inner_w / span_x, inner_h / span_y)
        self.cx0, self.cy0 = (max(xs) + min(xs)) / 2, (max(ys) + min(ys)) / 2

    def __call__(self, lat: float, lon: float) -> tuple[float, float]:
        return (MAP_W / 2 + (lon * self.k - self.cx0) * self.scale, MAP_H / 2 - (lat - self.cy0) * self.scale)

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        return (self.cy0 - (y - MAP_H / 2) / self.scale, ((x - MAP_W / 2) / self.scale + self.cx0) / self.k)


def render_map(regions: list[dict[str, Any]]) -> str:
    pts = [(float(r["lat"]), float(r["lon"])) for r in regions]
    proj = Projection(pts)
    parts = [
        f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_W} {MAP_H}" role="img" '
        f'aria-label="Micro-region map: G3 coverage by region">',
        f'<rect class="sea" x="0" y="0" width="{MAP_W}" height="{MAP_H}"/>',
    ]
    # graticule with degree labels
    lat_top, lon_left = proj.inverse(0, 0)
    lat_bottom, lon_right = proj.inverse(MAP_W, MAP_H)
    step = _nice_step(max(lat_top - lat_bottom, lon_right - lon_left))
    digits = max(0, -int(math.floor(math.log10(step))))
    g = ['<g class="graticule">']
    lon = math.ceil(lon_left / step) * step
    while lon < lon_right:
        x, _ = proj(lat_top, lon)
        g.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{MAP_H}"/>'
            f'<text x="{x + 3:.1f}" y="{MAP_H - 6}">{lon:.{digits}f}°E</text>'
        )
        lon += step
    lat = math.ceil(lat_bottom / step) * step
    while lat < lat_top:
        _, y = proj(lat, lon_left)
        g.append(
            f'<line x1="0" y1="{y:.1f}" x2="{MAP_W}" y2="{y:.1f}"/>'
            f'<text x="4" y="{y - 3:.1f}">{lat:.{digits}f}°N</text>'
        )
        lat += step
    g.append("</g>")
    parts += g
    # scale bar
    km_per_px = 111.32 / proj.scale
    bar_km = next((k for k in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if k / km_per_px >= 70), 100)
    bar_px = bar_km / km_per_px
    parts.append(
        f'<g class="scalebar" transform="translate({MAP_W - bar_px - 24:.1f},{MAP_H - 28})">'
        f'<rect x="0" y="0" width="{bar_px:.1f}" height="5"/>'
        f'<text x="{bar_px / 2:.1f}" y="-5" text-anchor="middle">{bar_km:g} km</text></g>'
        f'<text class="north" x="{MAP_W - 24}" y="30" text-anchor="middle">N ↑</text>'
    )
    # regions, biggest first so small ones stay visible on top
    max_subs = max([int(r["subscribers"]) for r in regions] or [1]) or 1
    circles, labels = ['<g class="regions">'], ['<g class="labels">']
    ordered = sorted(regions, key=lambda r: (-int(r["subscribers"]), str(r["region_id"])))
    geo = []
    for r in ordered:
        x, y = proj(float(r["lat"]), float(r["lon"]))
        geo.append((x, y, R_MIN + (R_MAX - R_MIN) * math.sqrt(int(r["subscribers"]) / max_subs)))
    discs = [(x - rad * 0.8, y - rad * 0.8, x + rad * 0.8, y + rad * 0.8) for x, y, rad in geo]
    placed: list[tuple[float, float, float, float]] = []
    for i, r in enumerate(ordered):
        x, y, rad = geo[i]
        cov = r.get("g3_coverage")
        title = (
            f"{r['region_name']} ({str(r['region_kind']).replace('_', ' ')}) — G3 coverage {_pct(cov)}, "
            f"{_int(r['subscribers'])} subscribers present, {_int(r['g3_subscribers'])} with G3, "
            f"{_int(r['opportunities'])} G3 opportunities; window {_when(r['window_start'])} UTC"
        )
        circles.append(
            f'<circle class="region" data-id="{_html(r["region_id"])}" data-name="{_html(r["region_name"])}" '
            f'data-coverage="{float(cov or 0):.4f}" data-subscribers="{int(r["subscribers"])}" '
            f'cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{coverage_colour(cov)}">'
            f"<title>{_html(title)}</title></circle>"
        )
        lx, ly, anchor = _place_label(placed, discs[:i] + discs[i + 1 :], str(r["region_name"]), x, y, rad)
        labels.append(
            f'<text class="label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{_html(r["region_name"])}</text>'
        )
    parts += circles + ["</g>"] + labels + ["</g>"]
    parts.append("</svg>")
    return "".join(parts)


def _place_label(
    placed: list[tuple[float, float, float, float]],
    discs: list[tuple[float, float, float, float]],
    text: str,
    x: float,
    y: float,
    rad: float,
) -> tuple[float, float, str]:
    """Below, above, right or left of the circle (then further out): the first spot whose box overlaps no label
    placed so far and no other circle (below when all do). Boxes are estimated from the text length (11 px)."""
    w, h = 6.3 * len(text) + 4, 13.0
    options = []
    for extra in (0, 14, 28):
        options += [
            (x, y + rad + 12 + extra, "middle"),
            (x, y - rad - 5 - extra, "middle"),
            (x + rad + 4 + extra, y + 4, "start"),
            (x - rad - 4 - extra, y + 4, "end"),
        ]
    for lx, ly, anchor in options:
        left = lx - w / 2 if anchor == "middle" else (lx if anchor == "start" else lx - w)
        box = (left, ly - h + 3, left + w, ly + 3)
        if (
            box[0] >= 0
            and box[2] <= MAP_W
            and box[1] >= 0
            and box[3] <= MAP_H
            and not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in placed + discs)
        ):
            placed.append(box)
            return lx, ly, anchor
    lx, ly, anchor = options[0]
    placed.append((lx - w / 2, ly - h + 3, lx + w / 2, ly + 3))
    return lx, ly, anchor


def render_legend(regions: list[dict[str, Any]]) -> str:
    stops = "".join(f'<stop offset="{p:.2f}" stop-color="{coverage_colour(p)}"/>' for p in (0, 0.25, 0.5, 0.75, 1))
    max_subs = max([int(r["subscribers"]) for r in regions] or [0])
    sizes = []
    x = 300.0
    for frac in (1.0, 0.25, 0.04):
        n = max(1, round(max_subs * frac)) if max_subs else 0
        rad = R_MIN + (R_MAX - R_MIN) * math.sqrt(frac)
        x += rad
        sizes.append(
            f'<circle cx="{x:.0f}" cy="{80 - rad:.1f}" r="{rad:.1f}" class="size-sample"/>'
            f'<text x="{x:.0f}" y="96" text-anchor="middle">{_int(n)}</text>'
        )
        x += rad + 24
    return (
        f'<svg class="legend" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {int(x) + 40} 100">'
        f'<defs><linearGradient id="cov">{stops}</linearGradient></defs>'
        f'<text x="12" y="12">G3 coverage</text>'
        f'<rect x="12" y="22" width="220" height="14" rx="2" fill="url(#cov)"/>'
        + "".join(
            f'<text x="{12 + 220 * p:.0f}" y="52" text-anchor="middle">{int(p * 100)}%</text>'
            for p in (0, 0.25, 0.5, 0.75, 1)
        )
        + '<text x="300" y="12">subscribers present</text>'
        + "".join(sizes)
        + "</svg>"
    )


def render_funnel(funnel: list[dict[str, Any]]) -> str:
    if not funnel:
        return '<p class="empty">No decisions in ClickHouse yet.</p>'
    out = ['<div class="funnel">']
    for row in funnel:
        base = max(int(row["triggers"]), 1)
        out.append(f'<div class="campaign" data-campaign="{_html(row["campaign"])}"><h3>{_html(row["campaign"])}</h3>')
        for key, label in (
            ("triggers", "triggers"),
            ("leads", "leads"),
            ("delivered", "delivered"),
            ("converted", "converted"),
        ):
            n = int(row[key])
            out.append(
                f'<div class="step {key}"><span class="name">{label}</span>'
                f'<span class="bar"><span style="width:{100 * n / base:.1f}%"></span></span>'
                f'<span class="num">{_int(n)} <small>{_pct(n / base, 0)}</small></span></div>'
            )
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _table(
    rows: list[dict[str, Any]], columns: list[tuple[str, str, str]], cls: str, empty: str, row_attr: str | None = None
) -> str:
    if not rows:
        return f'<p class="empty">{_html(empty)}</p>'
    head = "".join(f'<th class="{kind}">{_html(label)}</th>' for _, label, kind in columns)
    body = []
    for r in rows:
        cells = []
        for key, _, kind in columns:
            v = r.get(key)
            text = {"pct": _pct, "int": _int, "when": _when}.get(kind, str)(v)
            if kind == "pct" and key.endswith("coverage"):
                cells.append(
                    f'<td class="pct"><span class="swatch" style="background:{coverage_colour(v)}"></span>'
                    f"{_html(text)}</td>"
                )
            else:
                cells.append(f'<td class="{kind}">{_html(text)}</td>')
        attr = f' data-id="{_html(r.get(row_attr))}"' if row_attr else ""
        body.append(f"<tr{attr}>{''.join(cells)}</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


_CSS = """
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
color:#1f2933;background:#f4f6f8}
header{background:#16324f;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#c9d6e3;font-size:13px}main{padding:18px 28px;max-width:1280px}
section{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;margin-bottom:18px}
h2{margin:0 0 10px;font-size:17px}h3{margin:0 0 6px;font-size:14px}.kpis{display:flex;gap:14px;flex-wrap:wrap}
.kpi{flex:1;min-width:150px;background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:12px 16px}
.kpi b{display:block;font-size:24px}.kpi span{color:#52606d;font-size:12px}
#map{width:100%;height:auto;display:block;border-radius:6px}.sea{fill:#eef3f7}
.graticule line{stroke:#d5dee6;stroke-width:1}.graticule text{fill:#8795a1;font-size:11px}
.region{stroke:#fff;stroke-width:1.5;fill-opacity:.85;cursor:pointer}.region:hover,.region.hl{stroke:#16324f;stroke-width:3}
.label{font-size:11px;fill:#1f2933;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round;pointer-events:none}
.scalebar rect{fill:#1f2933}.scalebar text,.north{font-size:11px;fill:#1f2933}
.legend{height:100px;margin-top:8px}.legend text{font-size:11px;fill:#52606d}.size-sample{fill:#b8c4ce;stroke:#fff}
.cols{display:grid;grid-template-columns:1fr 1fr;gap:18px}@media(max-width:1000px){.cols{grid-template-columns:1fr}}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:5px 8px;border-bottom:1px solid #e4e7eb;text-align:left}
th{color:#52606d;font-weight:600}td.int,td.pct,th.int,th.pct{text-align:right}td.when,td.pct{white-space:nowrap}
tbody tr:hover,tr.hl{background:#fff7d6}
.swatch{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:6px;vertical-align:-1px}
.funnel{display:grid;grid-template-columns:1fr 1fr;gap:12px 22px}.campaign{padding:6px 0}
.step{display:grid;grid-template-columns:80px 1fr 92px;align-items:center;gap:8px;font-size:12px;margin:2px 0}
.bar{background:#edf1f4;height:14px;border-radius:3px;overflow:hidden}.bar span{display:block;height:100%}
.triggers .bar span{background:#7b93ab}.leads .bar span{background:#3f7cac}.delivered .bar span{background:#2a9d8f}
.converted .bar span{background:#1a9850}.num{text-align:right}.num small{color:#7b8794}
.empty{color:#7b8794;font-style:italic}#tip{position:fixed;pointer-events:none;background:#16324f;color:#fff;
padding:6px 9px;border-radius:5px;font-size:12px;max-width:340px;display:none;z-index:5}
details summary{cursor:pointer;color:#3f7cac;margin-top:8px}footer{color:#7b8794;font-size:12px;padding:0 28px 24px}
"""

_JS = """
(function(){
  var tip=document.getElementById('tip');
  function rows(id){return document.querySelectorAll('tr[data-id="'+id+'"]');}
  document.querySelectorAll('circle.region').forEach(function(c){
    var t=c.querySelector('title');
    c.addEventListener('mouseenter',function(){tip.textContent=t.textContent;c.dataset.tip=t.textContent;
      t.textContent='';tip.style.display='block';rows(c.dataset.id).forEach(function(r){r.classList.add('hl');});});
    c.addEventListener('mousemove',function(e){tip.style.left=(e.clientX+14)+'px';tip.style.top=(e.clientY+14)+'px';});
    c.addEventListener('mouseleave',function(){t.textContent=c.dataset.tip;tip.style.display='none';
      rows(c.dataset.id).forEach(function(r){r.classList.remove('hl');});});
  });
  document.querySelectorAll('tr[data-id]').forEach(function(r){
    var c=document.querySelector('circle.region[data-id="'+r.dataset.id+'"]');
    if(!c)return;
    r.addEventListener('mouseenter',function(){c.classList.add('hl');});
    r.addEventListener('mouseleave',function(){c.classList.remove('hl');});
  });
  document.body.dataset.ready='yes';
})();
"""


def render(data: ReportData, generated: datetime | None = None) -> str:
    generated = generated or datetime.now(UTC)
    span = (
        f"data {data.range.start:%Y-%m-%d %H:%M} – {data.range.end:%Y-%m-%d %H:%M} UTC" if data.range else "no data yet"
    )
    regions = data.regions
    present = sum(int(r["subscribers"]) for r in regions)
    g3 = sum(int(r["g3_subscribers"]) for r in regions)
    opp = sum(int(r["opportunities"]) for r in regions)
    leads = sum(int(r["leads"]) for r in data.funnel)
    converted = sum(int(r["converted"]) for r in data.funnel)
    kpis = [
        (f"{len(regions)}", "micro-regions with a published window"),
        (_int(present), "subscribers present"),
        (_pct(g3 / present) if present else "–", "G3 coverage (all regions)"),
        (_int(opp), "G3 opportunities"),
        (_int(leads), "leads sent"),
        (_int(converted), "converted"),
    ]
    top_cols = [
        ("region", "region", "text"),
        ("kind", "kind", "text"),
        ("opportunities", "opportunities", "int"),
        ("subscribers", "present", "int"),
        ("g3_capable", "G3-capable", "int"),
        ("g3_subscribers", "with G3", "int"),
        ("g3_coverage", "G3 coverage", "pct"),
        ("window_start", "window (UTC)", "when"),
    ]
    by_name = {r["region_name"]: r["region_id"] for r in regions}
    top = [{**r, "region_id": by_name.get(r["region"], "")} for r in data.top]
    all_cols = [
        ("region_name", "region", "text"),
        ("region_kind", "kind", "text"),
        ("subscribers", "present", "int"),
        ("g3_subscribers", "with G3", "int"),
        ("g3_coverage", "G3 coverage", "pct"),
        ("opportunities", "opportunities", "int"),
        ("window_start", "window (UTC)", "when"),
    ]
    ctrl_cols = [
        ("campaign", "campaign", "text"),
        ("treatment_leads", "treatment leads", "int"),
        ("treatment_conversion", "converted", "pct"),
        ("control_leads", "control", "int"),
        ("control_conversion", "converted", "pct"),
        ("uplift", "uplift", "pct"),
        ("ci_low", "95 % from", "pct"),
        ("ci_high", "to", "pct"),
    ]
    supp_cols = [("reason", "reason", "text"), ("suppressed", "decisions", "int")]
    journey_cols = [
        ("journey", "journey", "text"),
        ("started", "started", "int"),
        ("nudged", "nudged", "int"),
        ("reminded", "reminded", "int"),
        ("converted", "converted", "int"),
        ("conversion_rate", "conversion", "pct"),
        ("declined", "declined", "int"),
        ("not_contactable", "not contactable", "int"),
        ("no_usage", "no usage", "int"),
        ("low_usage", "low usage", "int"),
        ("running", "running", "int"),
    ]
    map_html = (
        render_map(regions) + render_legend(regions)
        if regions
        else '<p class="empty">No region metrics in ClickHouse yet.</p>'
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Touchpoint report — micro-regions and campaigns</title>
<style>{_CSS}</style></head>
<body>
<header><h1>Touchpoint — micro-region G3 view and campaign funnel</h1>
<p>{_html(span)} · generated {generated:%Y-%m-%d %H:%M} UTC · ClickHouse {_html(data.where)}</p></header>
<main>
<div class="kpis">{"".join(f'<div class="kpi"><b>{_html(v)}</b><span>{_html(k)}</span></div>' for v, k in kpis)}</div>
<section id="regions"><h2>G3 coverage by micro-region</h2>
<p>Each circle is a micro-region at its centroid: colour = G3 coverage (share of the subscribers present who hold a
G3 product), area ~ subscribers present, each region's latest published 15-minute window. Hover for details.</p>
{map_html}
<details><summary>All regions</summary>{
        _table(
            sorted(regions, key=lambda r: str(r["region_name"])), all_cols, "all-regions", "No regions.", "region_id"
        )
    }</details>
</section>
<section id="opportunities"><h2>Top G3 opportunity regions</h2>
<p>Subscribers present with a G3-capable handset but no G3 product: market G3 there first.</p>
{_table(top, top_cols, "top", "No opportunities in the data.", "region_id")}</section>
<section id="funnel"><h2>Lead funnel per campaign</h2>
<p>Triggers that got a decision for the campaign → leads sent (control group excluded) → delivered → converted;
percentages of the campaign's triggers.</p>
{render_funnel(data.funnel)}</section>
<div class="cols">
<section id="control"><h2>Uplift per campaign</h2>
<p>Treatment leads (sent, delivered or not) vs control-group leads (recorded, never contacted) converted by an
order; uplift = treatment − control conversion with its 95 % interval, blank where there is not enough data.</p>
{_table(data.control, ctrl_cols, "control", "No leads yet.")}</section>
<section id="suppressed"><h2>Why decisions were suppressed</h2>
{_table(data.suppressed, supp_cols, "suppressed", "No suppressed decisions.")}</section>
</div>
<section id="journeys"><h2>Trial journeys</h2>
<p>Free trials started → usage nudges and conversion reminders taken → converted (a subscribe order of the product
within the trial); trials that ended unconverted, by reason: declined (opted out, or used it and let it lapse),
not contactable, no usage, low usage.</p>
{_table(data.journeys, journey_cols, "journeys", "No trials yet.")}</section>
</main>
<footer>touchpoint {__version__} · self-contained: no external resources.
Same queries as the Grafana dashboards (grafana/dashboards/).</footer>
<div id="tip" role="tooltip"></div>
<script>{_JS}</script>
</body></html>
"""
