"""The state-size model of the decision job (touchpoint/harness/state_size.py), on 100 subscribers, without Flink."""

from __future__ import annotations

import json

from jobs.decisions.state import pack_history, pack_profile, unpack_history
from tests.support import csv_header
from touchpoint import ROOT
from touchpoint.harness import state_size as ss
from touchpoint.reference import read_reference_csv
from udfs.behaviour import KEEP_HOURS, compact
from udfs.contact_policy import Contacts

PROFILES = (
    csv_header("profiles")
    + """13900000001,460001234500001,gotone,g-88,1024,100,high,25-34,true,true,false,music_club
13900000002,460001234500002,mzone,m-18,0,0,low,18-24,false,true,false,
13900000005,460001234500005,gotone,g-58,500,10,mid,35-44,true,true,false,data_package_50;fetion
"""
)
START = 1_793_548_800_000  # 2026-11-02T00:00+08:00


def _pool() -> list:
    example = json.loads((ROOT / "schemas" / "examples" / "behaviour.json").read_text())
    records = [
        example
        | {
            "calls_mo": i,
            "bytes_down": 10_000 * i**3,
            "regions": ["mall-001"] * (i % 2),
            "last_tac": None if i % 3 else "35693803",
        }
        for i in range(20)
    ]
    records.append({"msisdn": "10000", "hour_start": START})  # an event-time marker is not a bucket
    return ss.bucket_pool(records)


def _profiles(tmp_path) -> list[dict]:
    path = tmp_path / "profiles.csv"
    path.write_text(PROFILES)
    return read_reference_csv(path, "profiles")


def test_model_packs_every_value_as_the_job_stores_it(tmp_path):
    pool = _pool()
    assert len(pool) == 20
    subs = list(ss.subscribers(100, pool, _profiles(tmp_path), START, seed=3))
    assert len({s.msisdn for s in subs}) == 100
    assert all(len(s.hours) == KEEP_HOURS for s in subs)

    total = ss.model(subs, pool)
    assert total.subscribers == 100 and total.bucket_entries == 100 * KEEP_HOURS

    one = subs[0]
    buckets = {h: tuple(pool[i]) for h, i in one.hours}
    payload = len(pack_profile(ss.profile_state(one.profile_row))) + len(pack_history(buckets, ss.contacts_state(one)))
    assert ss.model([one], pool).payload == payload
    # what the job reads back is what went in
    assert unpack_history(pack_history(buckets, ss.contacts_state(one))) == (buckets, ss.contacts_state(one))
    # framing: 2 states x (namespace, row mask, length, 11 msisdn chars), byte[] lengths and pickle headers,
    # the history's TTL stamp
    assert ss.FRAMING.subscriber(one.msisdn) == 2 * 14 + 2 * (4 + 16) + 8
    assert 200 < total.per_subscriber() < 1_000


def test_inputs_carry_the_modelled_state(tmp_path):
    pool = _pool()
    sub = next(ss.subscribers(1, pool, _profiles(tmp_path), START))
    lines = list(ss.behaviour_lines(sub, pool))
    assert [compact(json.loads(x)) for x in lines] == [pool[i] for _, i in sub.hours]
    assert sorted(json.loads(x)["hour_start"] for x in lines) == [h for h, _ in sub.hours]
    assert all(t["ts"] > sub.hours[-1][0] for t in sub.triggers)
    c = ss.contacts_state(sub)
    assert isinstance(c, Contacts) and len(c.decided) == len(ss.TRIGGERS) and len(c.leads) == 1
    profile = ss.profile_state(sub.profile_row)
    assert set(profile) == set(ss.PROFILE_FIELDS) and isinstance(profile["products"], list)
