"""The report's micro-region map, drawn as inline SVG: every region a circle at its centroid on an equirectangular
projection (colour = G3 coverage, area ~ subscribers present), with a graticule, a scale bar, labels placed clear
of each other, and the legend for colour and size."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from touchpoint.dashboards.report_format import count, coverage_colour, escape, minute, percent

MAP_W, MAP_H, PAD = 1000, 600, 56
R_MIN, R_MAX = 6.0, 30.0

#: A box on the map: left, top, right, bottom in SVG pixels.
Box = tuple[float, float, float, float]


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
    """The map as an inline SVG element, regions from the map panel's rows."""
    proj = Projection([(float(r["lat"]), float(r["lon"])) for r in regions])
    return "".join(
        [
            f'<svg id="map" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {MAP_W} {MAP_H}" role="img" '
            f'aria-label="Micro-region map: G3 coverage by region">',
            f'<rect class="sea" x="0" y="0" width="{MAP_W}" height="{MAP_H}"/>',
            _graticule(proj),
            _scale_bar(proj),
            _region_marks(regions, proj),
            "</svg>",
        ]
    )


def _graticule(proj: Projection) -> str:
    """Meridians and parallels at a round step that gives about six lines across the map, with degree labels."""
    lat_top, lon_left = proj.inverse(0, 0)
    lat_bottom, lon_right = proj.inverse(MAP_W, MAP_H)
    step = _nice_step(max(lat_top - lat_bottom, lon_right - lon_left))
    digits = max(0, -int(math.floor(math.log10(step))))
    g = ['<g class="graticule">']
    for lon in _multiples(step, lon_left, lon_right):
        x, _ = proj(lat_top, lon)
        g.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{MAP_H}"/>'
            f'<text x="{x + 3:.1f}" y="{MAP_H - 6}">{lon:.{digits}f}°E</text>'
        )
    for lat in _multiples(step, lat_bottom, lat_top):
        _, y = proj(lat, lon_left)
        g.append(
            f'<line x1="0" y1="{y:.1f}" x2="{MAP_W}" y2="{y:.1f}"/>'
            f'<text x="4" y="{y - 3:.1f}">{lat:.{digits}f}°N</text>'
        )
    g.append("</g>")
    return "".join(g)


def _multiples(step: float, low: float, high: float) -> Iterator[float]:
    """The multiples of ``step`` from ``low`` up to (not including) ``high``."""
    value = math.ceil(low / step) * step
    while value < high:
        yield value
        value += step  # summed, not multiplied: the drawn coordinates keep their exact float values


def _scale_bar(proj: Projection) -> str:
    """The longest round distance that is at least 70 px on the map, bottom right, and the north arrow."""
    km_per_px = 111.32 / proj.scale
    bar_km = next((k for k in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100) if k / km_per_px >= 70), 100)
    bar_px = bar_km / km_per_px
    return (
        f'<g class="scalebar" transform="translate({MAP_W - bar_px - 24:.1f},{MAP_H - 28})">'
        f'<rect x="0" y="0" width="{bar_px:.1f}" height="5"/>'
        f'<text x="{bar_px / 2:.1f}" y="-5" text-anchor="middle">{bar_km:g} km</text></g>'
        f'<text class="north" x="{MAP_W - 24}" y="30" text-anchor="middle">N ↑</text>'
    )


def _region_marks(regions: list[dict[str, Any]], proj: Projection) -> str:
    """A circle per region, then all the labels above them, so no circle hides a label."""
    # biggest first so small ones stay visible on top
    max_subs = max([int(r["subscribers"]) for r in regions] or [1]) or 1
    ordered = sorted(regions, key=lambda r: (-int(r["subscribers"]), str(r["region_id"])))
    geo = []
    for r in ordered:
        x, y = proj(float(r["lat"]), float(r["lon"]))
        geo.append((x, y, R_MIN + (R_MAX - R_MIN) * math.sqrt(int(r["subscribers"]) / max_subs)))
    discs = [(x - rad * 0.8, y - rad * 0.8, x + rad * 0.8, y + rad * 0.8) for x, y, rad in geo]
    circles, labels = ['<g class="regions">'], ['<g class="labels">']
    placed: list[Box] = []
    for i, r in enumerate(ordered):
        x, y, rad = geo[i]
        circles.append(_region_circle(r, x, y, rad))
        lx, ly, anchor = _place_label(placed, discs[:i] + discs[i + 1 :], str(r["region_name"]), x, y, rad)
        labels.append(
            f'<text class="label" x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{escape(r["region_name"])}</text>'
        )
    return "".join(circles + ["</g>"] + labels + ["</g>"])


def _region_circle(r: dict[str, Any], x: float, y: float, rad: float) -> str:
    """The region's circle; its data attributes and title feed the page's tooltip and table highlighting."""
    cov = r.get("g3_coverage")
    title = (
        f"{r['region_name']} ({str(r['region_kind']).replace('_', ' ')}) — G3 coverage {percent(cov)}, "
        f"{count(r['subscribers'])} subscribers present, {count(r['g3_subscribers'])} with G3, "
        f"{count(r['opportunities'])} G3 opportunities; window {minute(r['window_start'])} UTC"
    )
    return (
        f'<circle class="region" data-id="{escape(r["region_id"])}" data-name="{escape(r["region_name"])}" '
        f'data-coverage="{float(cov or 0):.4f}" data-subscribers="{int(r["subscribers"])}" '
        f'cx="{x:.1f}" cy="{y:.1f}" r="{rad:.1f}" fill="{coverage_colour(cov)}">'
        f"<title>{escape(title)}</title></circle>"
    )


def _place_label(
    placed: list[Box],
    discs: list[Box],
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
    """The colour scale of coverage, and circles for the largest region's subscribers, a quarter and 4 % of it."""
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
            f'<text x="{x:.0f}" y="96" text-anchor="middle">{count(n)}</text>'
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
