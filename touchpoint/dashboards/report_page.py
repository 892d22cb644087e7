"""The report's HTML page: the header and KPI tiles, the sections (map, top opportunity regions, lead funnel,
campaign results, suppression reasons, trial journeys) and their tables, with the inline stylesheet and the
little script for tooltips and highlighting. Everything is inline; the page loads nothing from anywhere."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from touchpoint import __version__
from touchpoint.dashboards.report_data import ReportData
from touchpoint.dashboards.report_format import count, coverage_colour, escape, minute, percent
from touchpoint.dashboards.report_map import render_legend, render_map
from touchpoint.dashboards.report_results import render_results

#: A table column: (row key, heading, kind); the kind picks the format and the alignment.
Column = tuple[str, str, str]

TOP_COLUMNS: list[Column] = [
    ("region", "region", "text"),
    ("kind", "kind", "text"),
    ("opportunities", "opportunities", "int"),
    ("subscribers", "present", "int"),
    ("g3_capable", "G3-capable", "int"),
    ("g3_subscribers", "with G3", "int"),
    ("g3_coverage", "G3 coverage", "pct"),
    ("window_start", "window (UTC)", "when"),
]
ALL_REGIONS_COLUMNS: list[Column] = [
    ("region_name", "region", "text"),
    ("region_kind", "kind", "text"),
    ("subscribers", "present", "int"),
    ("g3_subscribers", "with G3", "int"),
    ("g3_coverage", "G3 coverage", "pct"),
    ("opportunities", "opportunities", "int"),
    ("window_start", "window (UTC)", "when"),
]
SUPPRESSED_COLUMNS: list[Column] = [("reason", "reason", "text"), ("suppressed", "decisions", "int")]
JOURNEY_COLUMNS: list[Column] = [
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

CSS = """
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
td.ci{padding:2px 8px}.guardrails{margin:8px 0 0;padding-left:18px}.guardrail.paused{color:#c62828}
.share{margin:14px 0 0}.share figcaption{font-size:12px;color:#52606d;margin-bottom:4px}.key{margin-left:10px}
details summary{cursor:pointer;color:#3f7cac;margin-top:8px}footer{color:#7b8794;font-size:12px;padding:0 28px 24px}
"""

JS = """
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


def _kpis(data: ReportData) -> list[tuple[str, str]]:
    """(value, caption) of the tiles above the map: totals over every region and campaign."""
    regions = data.regions
    present = sum(int(r["subscribers"]) for r in regions)
    g3 = sum(int(r["g3_subscribers"]) for r in regions)
    opp = sum(int(r["opportunities"]) for r in regions)
    leads = sum(int(r["leads"]) for r in data.funnel)
    converted = sum(int(r["converted"]) for r in data.funnel)
    return [
        (f"{len(regions)}", "micro-regions with a published window"),
        (count(present), "subscribers present"),
        (percent(g3 / present) if present else "–", "G3 coverage (all regions)"),
        (count(opp), "G3 opportunities"),
        (count(leads), "leads sent"),
        (count(converted), "converted"),
    ]


def render_funnel(funnel: list[dict[str, Any]]) -> str:
    """Per campaign, bars for triggers, leads, delivered and converted, each as a share of the triggers."""
    if not funnel:
        return '<p class="empty">No decisions in ClickHouse yet.</p>'
    out = ['<div class="funnel">']
    for row in funnel:
        base = max(int(row["triggers"]), 1)
        name = escape(row["campaign"])
        out.append(f'<div class="campaign" data-campaign="{name}"><h3>{name}</h3>')
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
                f'<span class="num">{count(n)} <small>{percent(n / base, 0)}</small></span></div>'
            )
        out.append("</div>")
    out.append("</div>")
    return "".join(out)


def _cell(key: str, kind: str, v: Any) -> str:
    """One table cell, written and aligned by its column's kind."""
    text = {"pct": percent, "int": count, "when": minute}.get(kind, str)(v)
    if kind == "pct" and key.endswith("coverage"):  # coverage gets the map's colour, to find the region on it
        return (
            f'<td class="pct"><span class="swatch" style="background:{coverage_colour(v)}"></span>{escape(text)}</td>'
        )
    return f'<td class="{kind}">{escape(text)}</td>'


def table(rows: list[dict[str, Any]], columns: list[Column], cls: str, empty: str, row_attr: str | None = None) -> str:
    """``row_attr`` names the row key written as ``data-id``: the script highlights the region's circle from it."""
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    head = "".join(f'<th class="{kind}">{escape(label)}</th>' for _, label, kind in columns)
    body = []
    for r in rows:
        cells = "".join(_cell(key, kind, r.get(key)) for key, _, kind in columns)
        attr = f' data-id="{escape(r.get(row_attr))}"' if row_attr else ""
        body.append(f"<tr{attr}>{cells}</tr>")
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def render(data: ReportData, generated: datetime | None = None) -> str:
    """The whole page; ``generated`` is the time its header states (now by default)."""
    generated = generated or datetime.now(UTC)
    span = (
        f"data {data.range.start:%Y-%m-%d %H:%M} – {data.range.end:%Y-%m-%d %H:%M} UTC" if data.range else "no data yet"
    )
    regions = data.regions
    # the top panel names its regions; the region id lets the script link a table row to its circle
    id_by_name = {r["region_name"]: r["region_id"] for r in regions}
    top = [{**r, "region_id": id_by_name.get(r["region"], "")} for r in data.top]
    map_html = (
        render_map(regions) + render_legend(regions)
        if regions
        else '<p class="empty">No region metrics in ClickHouse yet.</p>'
    )
    alphabetical = sorted(regions, key=lambda r: str(r["region_name"]))
    all_regions = table(alphabetical, ALL_REGIONS_COLUMNS, "all-regions", "No regions.", "region_id")
    kpis = "".join(f'<div class="kpi"><b>{escape(v)}</b><span>{escape(k)}</span></div>' for v, k in _kpis(data))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Touchpoint report — micro-regions and campaigns</title>
<style>{CSS}</style></head>
<body>
<header><h1>Touchpoint — micro-region G3 view and campaign funnel</h1>
<p>{escape(span)} · generated {generated:%Y-%m-%d %H:%M} UTC · ClickHouse {escape(data.where)}</p></header>
<main>
<div class="kpis">{kpis}</div>
<section id="regions"><h2>G3 coverage by micro-region</h2>
<p>Each circle is a micro-region at its centroid: colour = G3 coverage (share of the subscribers present who hold a
G3 product), area ~ subscribers present, each region's latest published 15-minute window. Hover for details.</p>
{map_html}
<details><summary>All regions</summary>{all_regions}</details>
</section>
<section id="opportunities"><h2>Top G3 opportunity regions</h2>
<p>Subscribers present with a G3-capable handset but no G3 product: market G3 there first.</p>
{table(top, TOP_COLUMNS, "top", "No opportunities in the data.", "region_id")}</section>
<section id="funnel"><h2>Lead funnel per campaign</h2>
<p>Triggers that got a decision for the campaign → leads sent (control group excluded) → delivered → converted;
percentages of the campaign's triggers.</p>
{render_funnel(data.funnel)}</section>
<section id="results"><h2>Campaign results: uplift per campaign and variant</h2>
<p>Per campaign: its treatment leads (sent, delivered or not), each offer variant, and its control group (recorded,
never contacted); converted = an order attributed to the lead. Uplift = treatment − control conversion, in
percentage points, with its 95 % interval drawn on one axis (dashed: zero; green: wholly above zero, red: wholly
below), blank where there is not enough data. The guardrail pauses a campaign whose 99 % interval lies wholly
below zero at one of its looks (docs/effect.md).</p>
{render_results(data.results, data.share)}</section>
<section id="suppressed"><h2>Why decisions were suppressed</h2>
{table(data.suppressed, SUPPRESSED_COLUMNS, "suppressed", "No suppressed decisions.")}</section>
<section id="journeys"><h2>Trial journeys</h2>
<p>Free trials started → usage nudges and conversion reminders taken → converted (a subscribe order of the product
within the trial); trials that ended unconverted, by reason: declined (opted out, or used it and let it lapse),
not contactable, no usage, low usage.</p>
{table(data.journeys, JOURNEY_COLUMNS, "journeys", "No trials yet.")}</section>
</main>
<footer>touchpoint {__version__} · self-contained: no external resources.
Same queries as the Grafana dashboards (grafana/dashboards/).</footer>
<div id="tip" role="tooltip"></div>
<script>{JS}</script>
</body></html>
"""
