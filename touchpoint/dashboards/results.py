"""Campaign results a marketer can act on, in a terminal: ``touchpoint campaigns results [ID]``.

The rows are those of the campaigns dashboard's results panel (one query, ``report_data.RESULTS_PANEL``), the
same the HTML report draws: per campaign its treatment leads as a whole, each offer variant and its control group,
with the uplift's 95 % interval drawn as a bar on one axis shared by every row, so intervals compare at a glance;
then the variant share over time of each campaign with variants.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

#: Characters of the interval bar.
BAR = 31


def axis(rows: list[dict[str, Any]]) -> float:
    """Half the width of the axis every bar shares: the widest interval end, at least 5 points."""
    ends = [abs(r[k]) for r in rows for k in ("ci_low", "ci_high") if r.get(k) is not None]
    return max([0.05, *ends])


def interval_bar(low: float | None, mid: float | None, high: float | None, half: float, width: int = BAR) -> str:
    """``[low, high]`` as ``─`` with ``●`` at ``mid`` on an axis of ``-half .. +half``, zero marked ``┊`` (``┼``
    where the interval covers it); blank without an estimate."""
    if low is None or high is None or mid is None:
        return " " * width

    def at(v: float) -> int:
        return min(width - 1, max(0, round((v + half) / (2 * half) * (width - 1))))

    cells = [" "] * width
    for i in range(at(low), at(high) + 1):
        cells[i] = "─"
    zero = at(0.0)
    if low < 0 < high:
        cells[zero] = "┼"
    elif cells[zero] == " ":  # an interval that only rounds into zero's cell keeps it
        cells[zero] = "┊"
    cells[at(mid)] = "●"
    return "".join(cells)


def points(v: Any) -> str:
    """A difference of two rates (0.091) in percentage points, signed ("+9.1 pt"): an uplift is a difference, not a
    share."""
    return "" if v is None else f"{v * 100:+.1f} pt"


def variant_label(label: str) -> tuple[str, str]:
    """The variant share panel's series label ("campaign variant") as (campaign, variant)."""
    campaign, _, variant = label.rpartition(" ")
    return campaign, variant


def render_results(rows: list[dict[str, Any]], share: list[dict[str, Any]] | None = None) -> str:
    """The results table (and the variant share over time) as text."""
    if not rows:
        return "No leads yet."
    half = axis(rows)
    head = (
        f"{'campaign':<28} {'arm':<26} {'leads':>6} {'deliv.':>6} {'conv.':>6} {'rate':>6}  "
        f"{'uplift [95 % interval]':<26} {f'-{half * 100:.0f} pt':<{BAR // 2}}0{f'+{half * 100:.0f} pt':>{BAR // 2}}"
    )
    out = [head, "-" * len(head)]
    guardrail: dict[str, str] = {}
    for r in rows:
        if r["estimate"] == "yes":
            shown = f"{points(r['uplift'])} [{points(r['ci_low'])[:-3]}, {points(r['ci_high'])[:-3]}]"
        else:
            shown = "" if r["arm"] == "control" else "not enough data"
        bar = interval_bar(r.get("ci_low"), r.get("uplift"), r.get("ci_high"), half) if r["estimate"] == "yes" else ""
        out.append(
            f"{r['campaign']:<28} {r['arm']:<26} {r['leads']:>6} {r['delivered']:>6} {r['converted']:>6} "
            f"{r['conversion_rate']:>6.1%}  {shown:<26} {bar}".rstrip()
        )
        if r.get("guardrail"):
            guardrail[r["campaign"]] = r["guardrail"]
    for campaign, state in guardrail.items():
        out.append(f"guardrail: {campaign}: {state}")
    if share:
        out += ["", *render_share(share)]
    return "\n".join(out)


def shares(share: list[dict[str, Any]]) -> dict[str, list[tuple[Any, dict[str, float]]]]:
    """Campaign -> [(time, {variant: share of that interval's treatment leads})] from the share panel's rows
    (time, "campaign variant", leads)."""
    counts: dict[str, dict[Any, dict[str, int]]] = defaultdict(lambda: defaultdict(dict))
    for r in share:
        campaign, variant = variant_label(r["variant"])
        counts[campaign][r["time"]][variant] = r["leads"]
    return {
        c: [(t, {v: n / sum(by.values()) for v, n in sorted(by.items())}) for t, by in sorted(times.items())]
        for c, times in sorted(counts.items())
    }


def render_share(share: list[dict[str, Any]]) -> list[str]:
    out = []
    for campaign, series in shares(share).items():
        variants = sorted({v for _, by in series for v in by})
        out.append(f"variant share of {campaign}'s treatment leads, per interval (UTC):")
        out.append(f"  {'':<24} " + " ".join(f"{t:%H:%M}" if hasattr(t, "hour") else f"{t!s:>5}" for t, _ in series))
        for v in variants:
            out.append(f"  {v:<24} " + " ".join(f"{by.get(v, 0):>5.0%}" for _, by in series))
    return out
