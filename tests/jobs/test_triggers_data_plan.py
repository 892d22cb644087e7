"""quota_20mb, quota_5mb, quota_0mb and abnormal_usage: hand-written xDR timelines run through the real trigger
job in replay (one combined input, asserted per msisdn), checked against exact expectations and the reference
detector (touchpoint.harness.simulator.truth) over the same input."""

from __future__ import annotations

import json
import shutil
from datetime import datetime

import pytest

from tests.jobs.trigger_cases import assert_case, assert_matches_detector, replay_and_detect
from tests.support import csv_header, make_settings
from touchpoint.harness.simulator import simulate

pytestmark = pytest.mark.slow

KINDS = ["quota_20mb", "quota_5mb", "quota_0mb", "abnormal_usage"]
# The simulation starts one day before a billing month ends, so the month change (Asia/Shanghai) is in the data.
START = "2026-11-30T00:00:00+08:00"
T0 = int(datetime.fromisoformat(START).timestamp() * 1000)
MONTH_END = T0 + 24 * 3_600_000  # 2026-12-01T00:00:00+08:00
MIN, HOUR = 60_000, 3_600_000
MB = 1_048_576

PROFILE_HEADER = csv_header("profiles")
_profiles: list[str] = []
_xdrs: list[dict] = []
EXPECTED: dict[str, list[tuple[str, int, dict]]] = {}


def profile(msisdn: str, quota_mb: int, used_mb: int) -> None:
    _profiles.append(
        f"{msisdn},46000{msisdn[-10:]},gotone,gotone_58,{quota_mb},{used_mb},mid,25-34,true,true,"
        f"false,g3_basic;fetion\n"
    )


def xdr(msisdn: str, ts: int, mb: float, *, up: int = 0) -> dict:
    """An xDR of ``mb`` MB (plus ``up`` bytes up)."""
    x = {
        "event_id": f"x{len(_xdrs)}",
        "ts": ts,
        "msisdn": msisdn,
        "imsi": "46000" + msisdn[-10:],
        "lac": 10,
        "cell_id": 1001,
        "rat": "LTE",
        "apn": "cmnet",
        "app": "video",
        "bytes_up": up,
        "bytes_down": round(mb * MB),
        "duration_s": 60,
    }
    _xdrs.append(x)
    return x


def quota(t: int, remaining: int) -> tuple[str, dict]:
    return f"quota_{t}mb", {"threshold_mb": t, "remaining_bytes": remaining}


# 20 MB, then 5 MB, then 0 MB crossed in separate xDRs (50 MB left at the start); exactly 5 MB left fires 5;
# remaining_bytes is after the xDR and may be negative.
m = "13800000001"
profile(m, 100, 50)
xdr(m, T0 + 10 * MIN, 20)  # 30 MB left
xdr(m, T0 + 20 * MIN, 11, up=1)  # 19 MB - 1 byte
xdr(m, T0 + 2 * HOUR, 14)  # 5 MB - 1 byte
xdr(m, T0 + 3 * HOUR, 4)  # 1 MB - 1 byte
xdr(m, T0 + 4 * HOUR, 2)  # -1 MB - 1 byte
xdr(m, T0 + 5 * HOUR, 3)  # further below: nothing
EXPECTED[m] = [
    ("quota_20mb", T0 + 20 * MIN, quota(20, 19 * MB - 1)[1]),
    ("quota_5mb", T0 + 2 * HOUR, quota(5, 5 * MB - 1)[1]),
    ("quota_0mb", T0 + 4 * HOUR, quota(0, -MB - 1)[1]),
]
# one xDR crossing 20 and 5 MB fires both; landing exactly on 0 fires 0
m = "13800000002"
profile(m, 100, 70)
xdr(m, T0 + 10 * MIN, 1)  # 29 MB left
xdr(m, T0 + 30 * MIN, 26)  # 3 MB left
xdr(m, T0 + 50 * MIN, 3)  # exactly 0
EXPECTED[m] = [
    ("quota_20mb", T0 + 30 * MIN, quota(20, 3 * MB)[1]),
    ("quota_5mb", T0 + 30 * MIN, quota(5, 3 * MB)[1]),
    ("quota_0mb", T0 + 50 * MIN, quota(0, 0)[1]),
]
# one xDR crossing all three thresholds
m = "13800000003"
profile(m, 30, 0)
xdr(m, T0 + HOUR, 31)
EXPECTED[m] = [(k, T0 + HOUR, c) for k, c in (quota(t, -MB) for t in (20, 5, 0))]
# starting already below 20 MB (15 MB left): 20 never fires
m = "13800000004"
profile(m, 100, 85)
xdr(m, T0 + HOUR, 12)  # 3 MB left
EXPECTED[m] = [("quota_5mb", T0 + HOUR, quota(5, 3 * MB)[1])]
# an exact duplicate counts once (counted twice, 20, 5 and 0 would all fire on it)
m = "13800000005"
profile(m, 100, 0)
_xdrs.append(dict(xdr(m, T0 + HOUR, 60)))  # 40 MB left
xdr(m, T0 + 2 * HOUR, 25)  # 15 MB left
xdr(m, T0 + 3 * HOUR, 11)  # 4 MB left
EXPECTED[m] = [("quota_20mb", T0 + 2 * HOUR, quota(20, 15 * MB)[1]), ("quota_5mb", T0 + 3 * HOUR, quota(5, 4 * MB)[1])]
# data_quota_mb 0 (no data plan), and a subscriber without a profile: no quota triggers
m = "13800000006"
profile(m, 0, 0)
xdr(m, T0 + HOUR, 30)
xdr(m, T0 + 2 * HOUR, 30)
EXPECTED[m] = []
m = "13800000007"
xdr(m, T0 + HOUR, 30)
EXPECTED[m] = []
# the billing month (Asia/Shanghai) changes: data_used_mb applies to the start month only, the new month
# starts with the whole quota
m = "13800000008"
profile(m, 100, 90)  # 10 MB left in the start month
xdr(m, MONTH_END - HOUR, 8)  # 2 MB left: 5 fires
xdr(m, MONTH_END - 1, 1)  # 1 MB left
xdr(m, MONTH_END, 85)  # new month: 15 MB left: 20 fires
xdr(m, MONTH_END + HOUR, 16)  # -1 MB: 5 and 0 fire
EXPECTED[m] = [
    ("quota_5mb", MONTH_END - HOUR, quota(5, 2 * MB)[1]),
    ("quota_20mb", MONTH_END, quota(20, 15 * MB)[1]),
    ("quota_5mb", MONTH_END + HOUR, quota(5, -MB)[1]),
    ("quota_0mb", MONTH_END + HOUR, quota(0, -MB)[1]),
]

# abnormal_usage: 500 MB within one UTC clock hour fires once, not again later in that hour, again in the next
# hour (reaching exactly 500 MB counts); usage split across an hour boundary does not add up
m = "13800000010"
profile(m, 0, 0)
H = T0 + 3 * HOUR  # T0 is a whole UTC hour
xdr(m, H + 10 * MIN, 300)
xdr(m, H + 20 * MIN, 250)  # 550 MB: fires
xdr(m, H + 30 * MIN, 100)  # 650 MB: same hour, nothing
xdr(m, H + HOUR + 5 * MIN, 499)
xdr(m, H + HOUR + 6 * MIN, 1)  # exactly 500 MB: fires
xdr(m, H + 3 * HOUR - 1, 499)  # 499 MB in one hour ...
xdr(m, H + 3 * HOUR, 499)  # ... and 499 MB in the next: nothing
EXPECTED[m] = [
    ("abnormal_usage", H + 20 * MIN, {"hour_start": H, "bytes": 550 * MB}),
    ("abnormal_usage", H + HOUR + 6 * MIN, {"hour_start": H + HOUR, "bytes": 500 * MB}),
]
# a duplicate in the hour is counted once (495 MB + 10 MB, not 495 + 495)
m = "13800000011"
profile(m, 0, 0)
_xdrs.append(dict(xdr(m, H + 10 * MIN, 495)))
xdr(m, H + 40 * MIN, 10)
EXPECTED[m] = [("abnormal_usage", H + 40 * MIN, {"hour_start": H, "bytes": 505 * MB})]


def _replay(d, **triggers) -> tuple[list[dict], list[dict]]:
    inp, out = d / "in", d / "out"
    settings = make_settings(d / "work", triggers=triggers, simulator={"start": START})
    # Reference data of a small simulated city, with profiles for the test subscribers only.
    city = d / "city"
    simulate(settings, seed=5, subscribers=20, hours=1, out_dir=city)
    shutil.copytree(city / "reference", inp / "reference")
    (inp / "reference" / "profiles.csv").write_text(PROFILE_HEADER + "".join(_profiles))
    sig = {"event_id": "s0", "event_type": "attach", "ts": T0, "msisdn": "13800000099", "imsi": "460000000000099"}
    (inp / "signaling.jsonl").write_text(json.dumps(sig) + "\n")
    xdrs = sorted(_xdrs, key=lambda x: x["ts"])
    (inp / "xdr.jsonl").write_text("".join(json.dumps(x) + "\n" for x in xdrs))
    return replay_and_detect(settings, inp, out, [sig], xdrs, settings.triggers.kinds)


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[list[dict], list[dict]]:
    return _replay(tmp_path_factory.mktemp("dp"), kinds=KINDS)


@pytest.mark.parametrize("msisdn", sorted(EXPECTED))
def test_edge_case(run, msisdn):
    got, _ = run
    assert_case(got, msisdn, EXPECTED[msisdn])


def test_equals_reference_detector(run):
    got, want = run
    assert_matches_detector(got, want)


def test_other_quota_thresholds_are_detected_as_their_own_kinds(tmp_path):
    """The thresholds are a setting: [50, 10, 1] gives quota_50mb, quota_10mb and quota_1mb, rendered from the one
    quota recipe, exactly as the reference detector finds them with the same settings."""
    kinds = ["quota_50mb", "quota_10mb", "quota_1mb"]
    got, want = _replay(tmp_path, quota_thresholds_mb=[50, 10, 1], kinds=kinds)
    assert {t["kind"] for t in got} == set(kinds)
    assert_matches_detector(got, want)
