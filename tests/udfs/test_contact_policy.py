"""Contact policy (udfs/contact_policy.py): quiet hours in local time, stable control groups, deterministic
ids, and the per-subscriber contact record (cap, cooldown, pruning)."""

from __future__ import annotations

import re
from datetime import datetime, time

import pytest

from touchpoint.config import Decisions
from udfs.contact_policy import (
    Contacts,
    Policy,
    decision_id,
    in_control_group,
    in_holdout,
    in_quiet_hours,
    lead_id,
    local_day,
    next_allowed,
)
from udfs.units import HOUR_MS

P = Policy()  # Asia/Shanghai, quiet 21:00-08:00, 3 leads per 48 h


def ms(text: str) -> int:
    """A local Shanghai time (or any ISO time with an offset) as epoch ms."""
    if "+" not in text[10:] and not text.endswith("Z"):
        text += "+08:00"
    return int(datetime.fromisoformat(text).timestamp() * 1000)


def test_policy_from_settings():
    d = Decisions()
    p = Policy.from_settings(d)
    assert p == Policy(
        location_kinds=frozenset(d.location_kinds),
        holdout_percent=d.holdout_percent,
        variant_floor=d.variant_floor_percent / 100,
    )
    p = Policy.from_settings(
        Decisions(
            lead_validity_hours=1.5,
            contact_window_hours=24,
            max_leads_per_subscriber=2,
            quiet_start=time(22, 30),
            quiet_end=time(7, 0),
            timezone="UTC",
        )
    )
    assert (p.lead_validity_ms, p.window_ms, p.max_leads, p.quiet_start, p.quiet_end, p.timezone) == (
        5_400_000,
        24 * HOUR_MS,
        2,
        time(22, 30),
        time(7, 0),
        "UTC",
    )


# --- quiet hours ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "local, quiet",
    [
        ("2026-11-02T12:00:00", False),
        ("2026-11-02T20:59:59.999", False),
        ("2026-11-02T21:00:00", True),  # the start is quiet
        ("2026-11-02T23:59:59", True),
        ("2026-11-03T00:00:00", True),  # wraps midnight
        ("2026-11-03T07:59:59.999", True),
        ("2026-11-03T08:00:00", False),  # the end is not
    ],
)
def test_in_quiet_hours_shanghai(local, quiet):
    assert in_quiet_hours(ms(local), P) is quiet


def test_quiet_hours_are_local_time():
    ts = ms("2026-11-02T13:30:00Z")  # 21:30 in Shanghai, 13:30 in UTC
    assert in_quiet_hours(ts, P)
    assert not in_quiet_hours(ts, Policy(timezone="UTC"))
    assert in_quiet_hours(ms("2026-11-02T22:00:00Z"), Policy(timezone="UTC"))


def test_quiet_hours_not_wrapping_and_disabled():
    lunch = Policy(quiet_start=time(12, 0), quiet_end=time(14, 0))
    assert [
        in_quiet_hours(ms(f"2026-11-02T{t}"), lunch)
        for t in ("11:59:59", "12:00:00", "13:59:59", "14:00:00", "23:00:00")
    ] == [False, True, True, False, False]
    assert next_allowed(ms("2026-11-02T13:00:00"), lunch) == ms("2026-11-02T14:00:00")
    off = Policy(quiet_start=time(0, 0), quiet_end=time(0, 0))
    assert not in_quiet_hours(ms("2026-11-02T03:00:00"), off)


@pytest.mark.parametrize(
    "local, allowed",
    [
        ("2026-11-02T12:00:00", "2026-11-02T12:00:00"),
        ("2026-11-02T20:59:59.999", "2026-11-02T20:59:59.999"),
        ("2026-11-02T21:00:00", "2026-11-03T08:00:00"),
        ("2026-11-02T22:00:00", "2026-11-03T08:00:00"),
        ("2026-11-02T23:59:59.999", "2026-11-03T08:00:00"),
        ("2026-11-03T00:00:00", "2026-11-03T08:00:00"),
        ("2026-11-03T03:17:42.5", "2026-11-03T08:00:00"),
        ("2026-11-03T07:59:59.999", "2026-11-03T08:00:00"),
        ("2026-11-03T08:00:00", "2026-11-03T08:00:00"),
        ("2026-12-31T23:30:00", "2027-01-01T08:00:00"),  # across a year end
    ],
)
def test_next_allowed(local, allowed):
    assert next_allowed(ms(local), P) == ms(allowed)


def test_next_allowed_with_minutes():
    p = Policy(quiet_start=time(21, 30), quiet_end=time(8, 15))
    assert next_allowed(ms("2026-11-02T21:29:00"), p) == ms("2026-11-02T21:29:00")
    assert next_allowed(ms("2026-11-02T21:30:00"), p) == ms("2026-11-03T08:15:00")
    assert next_allowed(ms("2026-11-03T08:10:00"), p) == ms("2026-11-03T08:15:00")


def test_next_allowed_with_seconds():
    # decisions.quiet_end is a datetime.time, so "08:00:30" is a valid setting; the deferral must honour it
    p = Policy(quiet_end=time(8, 0, 30))
    assert in_quiet_hours(ms("2026-11-03T08:00:10"), p)
    assert next_allowed(ms("2026-11-03T08:00:10"), p) == ms("2026-11-03T08:00:30")
    assert next_allowed(ms("2026-11-02T22:00:00"), p) == ms("2026-11-03T08:00:30")


@pytest.mark.parametrize(
    "when, day",
    [
        ("2026-11-02T00:00:00", "2026-11-02"),
        ("2026-11-02T23:59:59.999", "2026-11-02"),
        ("2026-11-02T16:00:00Z", "2026-11-03"),  # midnight in Shanghai
        ("2026-11-02T15:59:59Z", "2026-11-02"),
    ],
)
def test_local_day(when, day):
    assert local_day(ms(when), "Asia/Shanghai") == day


# --- control group and ids ------------------------------------------------------------------------

MSISDNS = [f"139{i:08d}" for i in range(10_000)]


def test_control_group_is_stable():
    first = [in_control_group(m, "camp-a", 10) for m in MSISDNS[:500]]
    assert first == [in_control_group(m, "camp-a", 10) for m in MSISDNS[:500]]


@pytest.mark.parametrize("percent", [1, 5, 10, 50])
def test_control_group_share(percent):
    share = sum(in_control_group(m, "camp-a", percent) for m in MSISDNS) / len(MSISDNS)
    assert abs(share - percent / 100) < 0.01 + percent / 1000


def test_control_group_extremes_and_nesting():
    assert not any(in_control_group(m, "camp-a", 0) for m in MSISDNS)
    assert all(in_control_group(m, "camp-a", 100) for m in MSISDNS)
    five = {m for m in MSISDNS if in_control_group(m, "camp-a", 5)}
    ten = {m for m in MSISDNS if in_control_group(m, "camp-a", 10)}
    assert five < ten  # raising the share only adds subscribers
    other = {m for m in MSISDNS if in_control_group(m, "camp-b", 5)}
    assert len(five & other) < len(five) / 2  # each campaign holds out different subscribers


def test_lead_and_decision_ids_are_deterministic():
    a = lead_id("13900000001", "camp-a", "t-1")
    assert a == lead_id("13900000001", "camp-a", "t-1") and re.fullmatch(r"l-[0-9a-f]{20}", a)
    assert (
        len(
            {
                a,
                lead_id("13900000002", "camp-a", "t-1"),
                lead_id("13900000001", "camp-b", "t-1"),
                lead_id("13900000001", "camp-a", "t-2"),
            }
        )
        == 4
    )
    d = decision_id("t-1", "camp-a")
    assert d == decision_id("t-1", "camp-a") and re.fullmatch(r"d-[0-9a-f]{20}", d)
    assert d != decision_id("t-1", "camp-b") and d != decision_id("t-2", "camp-a")


# --- the contact record ---------------------------------------------------------------------------

T0 = ms("2026-11-02T10:00:00")


def test_cap_at_exactly_three_within_48h():
    c = Contacts()
    for i in range(3):
        assert not c.cap_reached(T0 + i * HOUR_MS, P)
        c.record(f"t{i}", T0 + i * HOUR_MS, "camp", delivered=True)
    assert c.cap_reached(T0 + 3 * HOUR_MS, P)  # a 4th is suppressed
    assert c.cap_reached(T0 + 48 * HOUR_MS - 1, P)  # the first is still inside the window
    assert not c.cap_reached(T0 + 48 * HOUR_MS, P)  # ... and falls out exactly 48 h later
    c.record("t3", T0 + 48 * HOUR_MS, "camp", delivered=True)
    assert c.cap_reached(T0 + 48 * HOUR_MS, P)


def test_cap_holds_when_an_earlier_trigger_is_decided_after_later_ones():
    c = Contacts()
    for h in (10, 20, 30):  # three leads, then a trigger from before them arrives (a backlog read unevenly)
        c.record(f"t{h}", T0 + h * HOUR_MS, "camp", delivered=True)
    assert c.cap_reached(T0 + 5 * HOUR_MS, P)  # the window ending at 30 h would hold four
    assert c.cap_reached(T0 - 17 * HOUR_MS, P)  # ... ending at 30 h: 47 h later, still one window
    assert not c.cap_reached(T0 - 18 * HOUR_MS, P)  # 48 h before the last: no window holds all four
    c = Contacts()
    for h in (10, 20, 59):  # 10 h and 59 h are 49 h apart: no window holds all three, nor them and one more
        c.record(f"t{h}", T0 + h * HOUR_MS, "camp", delivered=True)
    assert not c.cap_reached(T0 + 30 * HOUR_MS, P)


def test_cap_ignores_control_and_undelivered():
    c = Contacts()
    for i in range(5):
        c.record(f"t{i}", T0 + i, "camp", delivered=False)
    assert not c.cap_reached(T0 + 10, P)
    assert c.leads == [] and len(c.decided) == 5


def test_cap_follows_the_policy():
    c = Contacts()
    c.record("t0", T0, "camp", delivered=True)
    c.record("t1", T0 + 1, "camp", delivered=True)
    assert c.cap_reached(T0 + 2, Policy(max_leads=2))
    assert not c.cap_reached(T0 + 2 * HOUR_MS, Policy(max_leads=2, window_ms=HOUR_MS))
    assert Contacts().cap_reached(T0, Policy(max_leads=0))


def test_cooldown_boundary():
    c = Contacts()
    c.record("t0", T0, "camp-a", delivered=True)
    assert c.in_cooldown("camp-a", 24, T0 + 24 * HOUR_MS - 1)
    assert not c.in_cooldown("camp-a", 24, T0 + 24 * HOUR_MS)
    assert not c.in_cooldown("camp-b", 24, T0 + 1)
    assert not c.in_cooldown("camp-a", 0, T0)
    assert c.in_cooldown("camp-a", 0.5, T0 + 30 * 60_000 - 1)


def test_record_keeps_the_latest_lead_per_campaign():
    c = Contacts()
    c.record("t1", T0 + HOUR_MS, "camp", delivered=False)  # control leads count for the cooldown
    c.record("t0", T0, "camp", delivered=True)  # an older trigger decided later
    assert c.last_lead == {"camp": T0 + HOUR_MS}
    c.record("t2", T0 + 2 * HOUR_MS)  # decided without a lead
    assert c.last_lead == {"camp": T0 + HOUR_MS} and c.decided == {"t0": T0, "t1": T0 + HOUR_MS, "t2": T0 + 2 * HOUR_MS}


def test_prune():
    c = Contacts()
    c.record("old", T0, "camp-old", delivered=True)
    c.record("edge", T0 + HOUR_MS, "camp-edge", delivered=True)
    c.record("new", T0 + HOUR_MS + 1, "camp-new", delivered=True)
    c.prune(T0 + 49 * HOUR_MS, 48 * HOUR_MS)  # horizon T0 + 1 h: entries at or before it go
    assert c.leads == [T0 + HOUR_MS + 1]
    assert c.last_lead == {"camp-new": T0 + HOUR_MS + 1}
    assert c.decided == {"new": T0 + HOUR_MS + 1}


def test_the_holdout_is_a_stable_share_of_subscribers_independent_of_campaign_control_groups():
    held = [m for m in MSISDNS if in_holdout(m, 2)]
    assert held == [m for m in MSISDNS if in_holdout(m, 2)]
    assert abs(len(held) / len(MSISDNS) - 0.02) < 0.005
    assert not any(in_holdout(m, 0) for m in MSISDNS) and all(in_holdout(m, 100) for m in MSISDNS[:100])
    in_both = sum(in_control_group(m, "camp-a", 10) for m in held) / len(held)
    assert abs(in_both - 0.10) < 0.06  # another hash: the holdout is not one campaign's control group
