"""How the report writes its values: the G3 coverage colour scale (the map's circles, the tables' swatches), shares,
counts and times as text, and HTML escaping. The map and the page sections share these so a region reads the same
in a tooltip as in a table."""

from __future__ import annotations

import html
import math
from datetime import datetime
from typing import Any

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


def escape(v: Any) -> str:
    """``v`` as text safe inside an element or a quoted attribute."""
    return html.escape(str(v), quote=True)


def percent(x: Any, digits: int = 1) -> str:
    """A share (0.25) as a percentage ("25.0%"); a dash where there is no number."""
    try:
        return f"{float(x) * 100:.{digits}f}%"
    except (TypeError, ValueError):
        return "–"


def count(x: Any) -> str:
    """A whole number with thousands separators; a dash where there is no number."""
    try:
        return f"{int(x):,}"
    except (TypeError, ValueError):
        return "–"


def minute(dt: Any) -> str:
    """A timestamp to the minute (the windows are 15 minutes long); anything else as it is."""
    if isinstance(dt, datetime):
        return dt.strftime("%Y-%m-%d %H:%M")
    return str(dt)
