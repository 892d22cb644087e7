"""jobs/decisions/state.py: what the decision job stores per subscriber reads back exactly, and stays small."""

from __future__ import annotations

from jobs.decisions.state import (
    PROFILE_FIELDS,
    as_buckets,
    pack_history,
    pack_profile,
    unpack_history,
    unpack_profile,
)
from udfs.behaviour import Bucket
from udfs.contact_policy import Contacts
from udfs.units import HOUR_MS

START = 1_793_548_800_000  # a whole hour


def _hours(n: int) -> dict[int, tuple]:
    """n consecutive hours of a subscriber who browses, calls now and then and keeps one handset."""
    return {
        START + h * HOUR_MS: tuple(
            Bucket(
                h % 3 == 0,
                0,
                60 * (h % 3 == 0),
                h % 5 == 0,
                9_000 + h,
                120_000 * (h % 7),
                0,
                0,
                1 + h % 2,
                ("mall-001",) if h % 4 == 0 else (),
                False,
                "86840028",
            )
        )
        for h in range(n)
    }


def test_profile_round_trip_keeps_every_field_and_drops_unknown_ones():
    profile = dict(
        zip(PROFILE_FIELDS, ("13900000001", "gotone", "g-88", 1024, "high", "25-34", True, True, False, ["music_club"]))
    )
    assert unpack_profile(pack_profile(profile | {"unknown": 1})) == profile
    assert unpack_profile(pack_profile({"msisdn": "1"})) == {
        f: ("1" if f == "msisdn" else None) for f in PROFILE_FIELDS
    }
    assert unpack_profile(None) is None


def test_history_round_trip_and_size():
    buckets = _hours(49)
    contacts = Contacts()
    contacts.record("t-1", START + 48 * HOUR_MS, "dial-114", delivered=True)
    contacts.record("t-2", START + 48 * HOUR_MS + 60_000)
    packed = pack_history(buckets, contacts)
    assert unpack_history(packed) == (buckets, contacts)
    assert unpack_history(None) == ({}, Contacts())
    assert all(isinstance(b, Bucket) for b in as_buckets(buckets).values())
    # 49 hours + contacts: one Flink map entry per hour cost ~90 B each (~4.4 KB)
    assert len(packed) < 700, len(packed)
