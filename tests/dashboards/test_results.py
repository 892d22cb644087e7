"""``touchpoint campaigns results [ID]``: the results panel's rows as a terminal table with each uplift interval
drawn on one shared axis, the guardrail's word and the variant share over time; against the sample in chdb."""

from __future__ import annotations

from datetime import datetime

from tests.dashboards.sample import CAMPAIGNS, VARIANTS, config_file
from tests.support import run_cli
from touchpoint.dashboards.results import BAR, axis, interval_bar, points, render_share, shares, variant_label


def test_the_interval_bar_marks_zero_the_interval_and_the_estimate():
    bar = interval_bar(-0.10, -0.05, -0.02, half=0.10, width=21)
    assert len(bar) == 21 and bar.index("┊") == 10  # zero in the middle of -10 % .. +10 %
    assert bar.index("─") == 0 and bar.rindex("─") == 8  # -10 % .. -2 %: left of zero, not touching it
    assert bar.index("●") == 5  # -5 %
    across = interval_bar(-0.04, 0.01, 0.06, half=0.10, width=21)
    assert across.index("─") < 10 < across.rindex("─") and across[10] == "┼"  # the interval covers zero
    assert "┼" not in interval_bar(0.004, 0.05, 0.09, half=0.10, width=21)  # above zero, if only just
    assert interval_bar(None, None, None, half=0.1, width=7) == " " * 7
    # beyond the axis: clipped to its ends, never wider than the bar
    assert len(interval_bar(-1.0, 0.0, 1.0, half=0.1)) == BAR
    assert axis([{"ci_low": -0.3, "ci_high": 0.1}, {"ci_low": None, "ci_high": None}]) == 0.3
    assert axis([]) == 0.05


def test_an_uplift_is_written_in_signed_points_and_a_series_label_splits_at_its_last_space():
    assert (points(0.0912), points(-0.05), points(0.0), points(None)) == ("+9.1 pt", "-5.0 pt", "+0.0 pt", "")
    assert variant_label("mall-entry-shop fifteen-percent") == ("mall-entry-shop", "fifteen-percent")


def test_shares_per_interval_add_up_to_one():
    t1, t2 = datetime(2026, 11, 2, 1), datetime(2026, 11, 2, 2)
    rows = [
        {"time": t1, "variant": "mall-entry-shop a", "leads": 5},
        {"time": t1, "variant": "mall-entry-shop b", "leads": 5},
        {"time": t2, "variant": "mall-entry-shop b", "leads": 9},
        {"time": t2, "variant": "mall-entry-shop a", "leads": 1},
    ]
    assert shares(rows) == {"mall-entry-shop": [(t1, {"a": 0.5, "b": 0.5}), (t2, {"a": 0.1, "b": 0.9})]}
    text = render_share(rows)
    assert text[0].startswith("variant share of mall-entry-shop") and text[1].split() == ["01:00", "02:00"]
    assert text[3].split()[1:] == ["50%", "90%"]


def test_campaigns_results_prints_every_arm_with_its_interval_and_the_guardrail(sample, tmp_path):
    settings, expected = sample
    cfg = str(config_file(settings, tmp_path))
    out = run_cli("campaigns", "results", "--config", cfg)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    table = dict(_row(ln) for ln in lines if ln.split(" ")[0] in CAMPAIGNS)
    assert set(table) == set(expected["results"])
    for key, want in expected["results"].items():
        assert table[key][0] == [want["leads"], want["delivered"], want["converted"]], key
    estimated = [ln for k, (_, ln) in table.items() if k[1] != "control" and "not enough data" not in ln]
    assert estimated and all("┊" in ln or "─" in ln for ln in estimated)  # every estimate drawn
    assert "guardrail: dial-114-12580: paused: uplift interval below zero" in lines
    assert "guardrail: quota-20mb-reminder: resumed by ana" in lines
    assert any(ln.startswith("variant share of mall-entry-shop") for ln in lines)

    one = run_cli("campaigns", "results", "mall-entry-shop", "--config", cfg)
    arms = [_row(ln)[0][1] for ln in one.stdout.splitlines() if ln.startswith("mall-entry-shop ")]
    assert arms == ["treatment", *sorted(f"variant {v}" for v in VARIANTS["mall-entry-shop"]), "control"]
    assert "dial-114" not in one.stdout

    unknown = run_cli("campaigns", "results", "no-such-campaign", "--config", cfg)
    assert unknown.returncode != 0 and len(unknown.stderr.strip().splitlines()) == 1
    assert "no-such-campaign" in unknown.stderr


def _row(line: str) -> tuple[tuple[str, str], tuple[list[int], str]]:
    """(campaign, arm) -> ([leads, delivered, converted], the line) of one line of the table."""
    parts = line.split()
    n = 3 if parts[1] == "variant" else 2
    return (parts[0], " ".join(parts[1:n])), ([int(x) for x in parts[n : n + 3]], line)
