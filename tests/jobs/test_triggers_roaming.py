"""roam_in / roam_out through the real Flink triggers job: hand-written edge cases in one replay, checked
exactly (msisdn, kind, ts, context with the country and operator the job adds from the PLMN table)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint.runner.embedded import replay

pytestmark = pytest.mark.slow
MIN = 60_000
HOUR = 3_600_000
T0 = 1_793_600_000_000


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _prefix(city: Path, home: bool) -> tuple[str, str]:
    """A 7-digit number prefix (and its province) of the home province, or of another one."""
    from touchpoint.config import load_settings

    home_province = load_settings().network.home_province
    rows = csv.DictReader((city / "reference" / "number_ranges.csv").open())
    return next((r["prefix"], r["province"]) for r in rows if (r["province"] == home_province) == home)


def test_roaming_edge_cases(tmp_path):
    from touchpoint.harness.simulator import simulate

    city = tmp_path / "city"
    simulate(make_settings(tmp_path / "w0"), seed=3, subscribers=20, hours=1, out_dir=city)
    home, _ = _prefix(city, home=True)
    other, other_province = _prefix(city, home=False)
    n = iter(range(10_000))
    lines: list[dict] = []

    def ev(msisdn, imsi, minutes, vlr=None, etype="location_update"):
        rec = {
            "event_id": f"r{next(n)}",
            "event_type": etype,
            "ts": T0 + round(minutes * MIN),
            "msisdn": msisdn,
            "imsi": imsi,
        }
        if etype == "mo_call":  # the job reads raw lines: a call without its number is a dead letter of ingest
            rec["called_number"] = "13800138000"
        if vlr is not None:
            rec["vlr_plmn"] = vlr
        lines.append(rec)
        return rec

    # A foreign roamer (Vodafone UK: 234150… has no 6-digit PLMN, so the 5-digit one names it). Its first event
    # fires (and counts once although duplicated); events soon after, and after a silence just short of the gap,
    # do not; the first event after a silence of exactly the gap fires again.
    uk = ("447700900001", "234150000000001")
    first = ev(*uk, 0)
    lines.append(dict(first))
    ev(*uk, 10, etype="mo_call")
    ev(*uk, 10 + 24 * 60 - 1)
    ev(*uk, 10 + 24 * 60 - 1 + 24 * 60)
    # a 3-digit-MNC network: the IMSI's 6 digits name it (T-Mobile US), while plmn stays the first 5 digits
    ev("12065550002", "310260000000002", 5)
    # an unknown foreign network (MCC 800 is unassigned): a roamer all the same, no country or operator
    ev("99912345", "800000000000003", 6)
    # a home-PLMN number of another province: roam_in with its province, then nothing; it is not a home subscriber,
    # so even a foreign vlr_plmn gives no roam_out
    dom = (other + "0004", "460000000000004")
    ev(*dom, 7)
    ev(*dom, 20)
    ev(*dom, 60, vlr="45400")
    # a home subscriber: at home, abroad (one roam_out), staying abroad (also on another network: nothing),
    # back home on a home PLMN, then out again to a 6-digit network (another roam_out)
    trip = (home + "0005", "460020000000005")
    ev(*trip, 0)
    ev(*trip, 120, vlr="45412")
    ev(*trip, 150, vlr="45412", etype="mt_sms")
    ev(*trip, 300, vlr="45400")
    ev(*trip, 600, vlr="46000")
    ev(*trip, 700)
    ev(*trip, 800, vlr="310260")
    # a home subscriber whose first event is abroad: nothing, also for the next one abroad
    away = (home + "0006", "460000000000006")
    ev(*away, 30, vlr="45005")
    ev(*away, 90, vlr="45005")

    inp = tmp_path / "in"
    (inp / "reference").mkdir(parents=True)
    for f in (city / "reference").iterdir():
        shutil.copy(f, inp / "reference" / f.name)
    lines.sort(key=lambda r: r["ts"])
    (inp / "signaling.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = tmp_path / "out"
    settings = make_settings(tmp_path / "w", triggers={"kinds": ["roam_in", "roam_out"]})
    replay("triggers", settings, inp, out)

    triggers = _lines(out / "triggers.jsonl")
    got = sorted(((x["msisdn"], x["kind"], (x["ts"] - T0) / MIN, x["context"]) for x in triggers), key=str)
    uk_ctx = {"plmn": "23415", "province": None, "country": "United Kingdom", "operator": "Vodafone"}
    china_mobile = {"country": "China", "operator": "China Mobile"}
    assert got == sorted(
        [
            (uk[0], "roam_in", 0, uk_ctx),
            (uk[0], "roam_in", 10 + 48 * 60 - 1, uk_ctx),
            (
                "12065550002",
                "roam_in",
                5,
                {"plmn": "31026", "province": None, "country": "United States", "operator": "T-Mobile US"},
            ),
            ("99912345", "roam_in", 6, {"plmn": "80000", "province": None, "country": None, "operator": None}),
            (dom[0], "roam_in", 7, {"plmn": "46000", "province": other_province, **china_mobile}),
            (
                trip[0],
                "roam_out",
                120,
                {"vlr_plmn": "45412", "country": "Hong Kong", "operator": "China Mobile Hong Kong Company Limited"},
            ),
            (trip[0], "roam_out", 800, {"vlr_plmn": "310260", "country": "United States", "operator": "T-Mobile US"}),
        ],
        key=str,
    )

    # the reference detector agrees on everything but the fields the job adds
    from touchpoint.harness.simulator.lookups import load_reference
    from touchpoint.harness.simulator.truth import Params, detect

    truth = detect(lines, [], [], load_reference(inp / "reference"), Params.from_settings(settings))
    assert sorted(
        (t["msisdn"], t["kind"], t["ts"], t["context"]) for t in truth if t["kind"].startswith("roam_")
    ) == sorted(
        (x["msisdn"], x["kind"], x["ts"], {k: v for k, v in x["context"].items() if k not in ("country", "operator")})
        for x in triggers
    )
