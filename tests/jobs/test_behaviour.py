"""The behaviour job: every hourly record of a simulated city equals an independent DuckDB recomputation from
the normalised events and the cells reference; and a hand-written case with exact expected records
(duplicates, roaming, latest IMEI by event time, hour boundaries, late events)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from tests.jobs.duckdb_events import unique_events
from tests.support import make_settings, replay_after_ingest
from touchpoint.runner.embedded import replay

pytestmark = pytest.mark.slow
MIN = 60_000
HOUR = 3_600_000
#: Fields that are absent from a record when null (sinks drop nulls), with the value that means "none".
OPTIONAL = {"g3_data_share": None, "regions": [], "last_imei": None, "last_tac": None}


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _normal(r: dict) -> dict:
    """A record with absent optional fields filled in and regions as a set (their order is not significant)."""
    r = OPTIONAL | r
    return r | {"regions": frozenset(r["regions"] or ())}


@pytest.fixture(scope="module")
def city_replayed(dense_city, tmp_path_factory):
    """ingest then behaviour over the shared small city, in one output dir (behaviour reads ingest's output)."""
    return replay_after_ingest("behaviour", dense_city, tmp_path_factory)


def _duckdb_behaviour(settings, out: Path, reference: Path) -> dict[tuple, dict]:
    """The behaviour records recomputed in DuckDB (no Flink, no shared SQL), keyed by (msisdn, hour_start)."""

    def q(values):
        return ", ".join("'" + v.replace("'", "''") + "'" for v in values)

    dials = q([settings.triggers.directory_number, *settings.triggers.hotline_numbers])
    home = q(settings.network.home_plmns)
    sig_cols = dict(
        event_id="VARCHAR",
        event_type="VARCHAR",
        ts="BIGINT",
        msisdn="VARCHAR",
        imei="VARCHAR",
        cell_id="BIGINT",
        vlr_plmn="VARCHAR",
        called_number="VARCHAR",
        duration_s="BIGINT",
    )

    con = unique_events(out, sig_cols)
    con.execute(
        f"CREATE TABLE cells AS SELECT cell_id::BIGINT AS cell_id, region_id "
        f"FROM read_csv('{reference / 'cells.csv'}', header=true, all_varchar=true)"
    )
    rows = con.execute(f"""
        WITH ev AS (
          SELECT msisdn, ts, cell_id, imei,
                 (event_type = 'mo_call')::BIGINT AS calls_mo,
                 (event_type = 'mt_call')::BIGINT AS calls_mt,
                 CASE WHEN event_type IN ('mo_call', 'mt_call') THEN coalesce(duration_s, 0) ELSE 0 END AS secs,
                 (event_type IN ('mo_sms', 'mt_sms'))::BIGINT AS sms,
                 0 AS up, 0 AS down, 0 AS g3,
                 (event_type = 'mo_call' AND called_number IN ({dials}))::BIGINT AS hot,
                 coalesce(vlr_plmn NOT IN ({home}), false) AS roam
          FROM s
          UNION ALL
          SELECT msisdn, ts, cell_id, imei, 0, 0, 0, 0, bytes_up, bytes_down,
                 CASE WHEN rat = 'G3' THEN bytes_up + bytes_down ELSE 0 END, 0, false
          FROM x)
        SELECT ev.msisdn, ev.ts // {HOUR} * {HOUR} AS hour_start,
               sum(calls_mo), sum(calls_mt), sum(secs), sum(sms), sum(up), sum(down), sum(g3),
               sum(g3) / nullif(sum(up) + sum(down), 0),
               sum(hot), count(DISTINCT ev.cell_id),
               list(DISTINCT c.region_id) FILTER (WHERE c.region_id IS NOT NULL AND c.region_id <> ''),
               bool_or(roam),
               arg_max(imei, struct_pack(t := ev.ts, i := imei)) FILTER (WHERE imei IS NOT NULL)
        FROM ev LEFT JOIN cells AS c ON ev.cell_id = c.cell_id
        GROUP BY ALL""").fetchall()
    fields = (
        "msisdn",
        "hour_start",
        "calls_mo",
        "calls_mt",
        "call_seconds",
        "sms",
        "bytes_up",
        "bytes_down",
        "g3_bytes",
        "g3_data_share",
        "hotline_dials",
        "distinct_cells",
        "regions",
        "roaming",
        "last_imei",
    )
    out_rows = {}
    for row in rows:
        r = {f: (int(v) if isinstance(v, int) and not isinstance(v, bool) else v) for f, v in zip(fields, row)}
        r["last_tac"] = r["last_imei"][:8] if r["last_imei"] else None
        out_rows[(r["msisdn"], r["hour_start"])] = _normal(r)
    return out_rows


def test_city_records_equal_duckdb_recomputation(dense_city, city_replayed):
    settings, out, written = city_replayed
    assert set(written) == {"behaviour"}  # no DLQ output: the triggers job reports late events
    records = _lines(out / "behaviour.jsonl")
    from touchpoint.schemas import errors

    assert [e for r in records if (e := errors("behaviour", r))] == []
    got = {(r["msisdn"], r["hour_start"]): _normal(r) for r in records}
    assert len(got) == len(records), "one record per (msisdn, hour)"
    want = _duckdb_behaviour(settings, out, dense_city / "reference")
    assert set(got) == set(want), f"missing {list(set(want) - set(got))[:3]}, extra {list(set(got) - set(want))[:3]}"
    for key, w in want.items():
        g = got[key]
        assert g["g3_data_share"] == pytest.approx(w["g3_data_share"], abs=1e-9), key
        assert {**g, "g3_data_share": 0} == {**w, "g3_data_share": 0}, key
    # the city exercises what the records measure, so the comparison proves something
    v = list(got.values())
    assert any(r["roaming"] for r in v) and any(r["hotline_dials"] for r in v)
    assert any(r["calls_mo"] for r in v) and any(r["calls_mt"] for r in v) and any(r["sms"] for r in v)
    shares = {r["g3_data_share"] for r in v}
    assert None in shares and 0 in shares and any(s for s in shares)  # a mixed share: the hand-written case
    assert any(len(r["regions"]) > 1 for r in v) and any(not r["regions"] for r in v)
    normalised = [e["event_id"] for e in _lines(out / "signaling-normalised.jsonl")]
    assert len(normalised) > len(set(normalised)), "the city has no duplicate events"


# --- a hand-written case ------------------------------------------------------------------------------


def test_hand_written_case(small_city, tmp_path):
    cells = list(csv.DictReader((small_city / "reference" / "cells.csv").open()))
    mall = next(c for c in cells if c["region_id"].startswith("mall"))
    other = next(c for c in cells if c["region_id"] and c["region_id"] != mall["region_id"])
    outside = next(c for c in cells if not c["region_id"])
    mall_cell, other_cell, outside_cell = (int(c["cell_id"]) for c in (mall, other, outside))
    unknown_cell = 99_999_999
    assert unknown_cell not in {int(c["cell_id"]) for c in cells}
    h0 = 1_793_600_000_000 // HOUR * HOUR
    a, b, c = "13900000001", "13900000002", "13900000003"
    imei1, imei2, imei3, imei4 = "356938031234562", "867352991142115", "865258419271331", "354785511638957"
    n = iter(range(1000))

    def sig(msisdn, at, etype="location_update", **extra):
        rec = {
            "event_id": f"s{next(n)}",
            "event_type": etype,
            "ts": h0 + at,
            "msisdn": msisdn,
            "imsi": "46000" + msisdn[-10:],
            "rat": "LTE",
        }
        return rec | extra

    dial = sig(a, 10 * MIN, "mo_call", called_number="114", duration_s=60, cell_id=outside_cell, imei=imei1)
    newest = sig(a, 55 * MIN, cell_id=mall_cell, imei=imei2)
    older = sig(a, 55 * MIN - 30_000, cell_id=other_cell, imei=imei3)  # arrives after `newest`, within the bound
    push = sig(c, 3 * HOUR, cell_id=outside_cell)  # moves event time on by hours
    late = sig(a, 58 * MIN, "mo_call", called_number="114", duration_s=999, cell_id=88_888_888, imei=imei4)
    signaling = [
        (sig(a, 5 * MIN, cell_id=mall_cell, imei=imei1), None),
        (dial, None),
        (dict(dial), dial["ts"] + 5_000),  # exact duplicate, arriving 5 s later: counted once
        (sig(a, 15 * MIN, "mo_call", called_number="10086", duration_s=30, cell_id=outside_cell), None),
        (sig(a, 16 * MIN, "mo_call", called_number="13812345678", duration_s=10, cell_id=outside_cell), None),
        (sig(a, 20 * MIN, "mt_call", cell_id=mall_cell), None),  # no duration: 0 s
        (sig(a, 30 * MIN, "mo_sms", cell_id=unknown_cell), None),  # a cell but no region
        (newest, None),
        (older, newest["ts"] + 1),
        (sig(a, HOUR - 1, "mo_sms", cell_id=mall_cell), None),  # last ms of hour 0
        (sig(a, HOUR, "mt_sms", cell_id=mall_cell), None),  # first ms of hour 1
        (sig(a, HOUR + 10 * MIN, vlr_plmn="23415", imei=imei1), None),  # abroad: no cell
        (sig(b, 7 * MIN, vlr_plmn="46000", cell_id=outside_cell), None),  # a home PLMN is not roaming
        (push, None),
        (late, push["ts"] + 1),  # behind the watermark by hours: not counted
    ]
    signaling.sort(key=lambda p: p[1] if p[1] is not None else p[0]["ts"])
    xdrs = [
        {
            "event_id": "x1",
            "ts": h0 + 40 * MIN,
            "msisdn": a,
            "imsi": "460000000000001",
            "rat": "G3",
            "cell_id": other_cell,
            "bytes_up": 1000,
            "bytes_down": 3000,
        },
        {
            "event_id": "x2",
            "ts": h0 + 45 * MIN,
            "msisdn": a,
            "imsi": "460000000000001",
            "rat": "LTE",
            "bytes_up": 500,
            "bytes_down": 500,
        },
        # an xDR's IMEI counts too: the latest event of hour 1 that has one
        {
            "event_id": "x3",
            "ts": h0 + HOUR + 20 * MIN,
            "msisdn": a,
            "imsi": "460000000000001",
            "rat": "LTE",
            "imei": imei4,
            "bytes_up": 100,
            "bytes_down": 200,
        },
    ]
    inp = tmp_path / "in"
    shutil.copytree(small_city / "reference", inp / "reference")
    (inp / "signaling.jsonl").write_text("".join(json.dumps(e) + "\n" for e, _ in signaling))
    (inp / "xdr.jsonl").write_text("".join(json.dumps(x) + "\n" for x in xdrs))
    out = tmp_path / "out"
    written = replay("behaviour", make_settings(tmp_path / "w"), inp, out)
    assert set(written) == {"behaviour"}

    zero = dict(
        calls_mo=0,
        calls_mt=0,
        call_seconds=0,
        sms=0,
        bytes_up=0,
        bytes_down=0,
        g3_bytes=0,
        hotline_dials=0,
        roaming=False,
    )
    expected = [
        {
            "msisdn": a,
            "hour_start": h0,
            **zero,
            "calls_mo": 3,
            "calls_mt": 1,
            "call_seconds": 100,
            "sms": 2,
            "bytes_up": 1500,
            "bytes_down": 3500,
            "g3_bytes": 4000,
            "g3_data_share": 0.8,
            "hotline_dials": 2,
            "distinct_cells": 4,
            "regions": [mall["region_id"], other["region_id"]],
            "last_imei": imei2,
            "last_tac": imei2[:8],
        },
        {
            "msisdn": a,
            "hour_start": h0 + HOUR,
            **zero,
            "sms": 1,
            "bytes_up": 100,
            "bytes_down": 200,
            "g3_data_share": 0.0,
            "distinct_cells": 1,
            "regions": [mall["region_id"]],
            "roaming": True,
            "last_imei": imei4,
            "last_tac": imei4[:8],
        },
        {"msisdn": b, "hour_start": h0, **zero, "distinct_cells": 1},
        {"msisdn": c, "hour_start": h0 + 3 * HOUR, **zero, "distinct_cells": 1},
    ]
    got = sorted(map(_normal, _lines(out / "behaviour.jsonl")), key=lambda r: (r["msisdn"], r["hour_start"]))
    assert got == [_normal(r) for r in expected]
