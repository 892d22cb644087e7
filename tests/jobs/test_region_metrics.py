"""The region_metrics job: every record of a simulated city equals an independent DuckDB recomputation from the
normalised events and the reference CSVs, exactly the region-windows with at least k subscribers are published;
and a hand-written case with exact expected values (duplicates, latest IMEI by event time and per region,
profile-less roamer, unknown TAC, xDR-only subscriber, window boundary, a region with k-1 subscribers)."""

from __future__ import annotations

import csv
import json
import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from tests.jobs.duckdb_events import unique_events
from tests.support import make_settings, replay_after_ingest
from touchpoint.runner.embedded import replay
from touchpoint.schemas import errors

pytestmark = pytest.mark.slow
MIN = 60_000
HOUR = 3_600_000


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.fixture(scope="module")
def city_replayed(dense_city, tmp_path_factory):
    """ingest then region_metrics over the shared small city, in one output dir."""
    return replay_after_ingest("region_metrics", dense_city, tmp_path_factory)


def _duckdb_presence(out: Path, reference: Path, window_ms: int) -> list[tuple]:
    """Per (region, window, subscriber present), recomputed in DuckDB without Flink or the job's SQL:
    (region_id, window_start, msisdn, xdr bytes, G3 xdr bytes, handset G3-capable, products string)."""
    sig_cols = dict(event_id="VARCHAR", ts="BIGINT", msisdn="VARCHAR", imei="VARCHAR", cell_id="BIGINT")

    def ref(name):
        return f"read_csv('{reference / name}.csv', header=true, all_varchar=true)"

    con = unique_events(out, sig_cols)
    return con.execute(f"""
        WITH ev AS (
          SELECT msisdn, ts, cell_id, imei, 0::BIGINT AS b, 0::BIGINT AS g3 FROM s
          UNION ALL
          SELECT msisdn, ts, cell_id, imei, coalesce(bytes_up, 0) + coalesce(bytes_down, 0),
                 CASE WHEN rat = 'G3' THEN coalesce(bytes_up, 0) + coalesce(bytes_down, 0) ELSE 0 END
          FROM x),
        present AS (
          SELECT c.region_id, ev.ts // {window_ms} * {window_ms} AS window_start, ev.msisdn,
                 sum(b) AS b, sum(g3) AS g3,
                 arg_max(imei, struct_pack(t := ev.ts, i := imei)) FILTER (WHERE imei IS NOT NULL) AS imei
          FROM ev JOIN {ref("cells")} AS c ON ev.cell_id = c.cell_id::BIGINT
          WHERE coalesce(c.region_id, '') <> ''
          GROUP BY ALL)
        SELECT p.region_id, p.window_start, p.msisdn, p.b, p.g3, coalesce(h.g3_capable = 'true', false), pr.products
        FROM present AS p
        LEFT JOIN {ref("handsets")} AS h ON substr(p.imei, 1, 8) = h.tac
        LEFT JOIN {ref("profiles")} AS pr ON p.msisdn = pr.msisdn""").fetchall()


def _expected_windows(presence: list[tuple], reference: Path, window_ms: int) -> dict[tuple, dict]:
    """Every region-window (published or not) from the per-subscriber rows, keyed by (region_id, window_start)."""
    regions = {r["region_id"]: r for r in csv.DictReader((reference / "regions.csv").open())}
    groups = defaultdict(list)
    for region, start, msisdn, b, g3, capable, products in presence:
        held = {p for p in (products or "").split(";") if p}
        groups[(region, int(start))].append((msisdn, int(b), int(g3), bool(capable), held))
    out = {}
    for (region, start), subs in groups.items():
        assert len({m for m, *_ in subs}) == len(subs)
        holders = [any(p.startswith("g3_") for p in held) for _, _, _, _, held in subs]
        total, g3 = sum(s[1] for s in subs), sum(s[2] for s in subs)
        rec = {
            "region_id": region,
            "window_start": start,
            "window_end": start + window_ms,
            "subscribers": len(subs),
            "g3_subscribers": sum(holders),
            "g3_capable": sum(s[3] for s in subs),
            "g3_coverage": sum(holders) / len(subs),
            "opportunities": sum(s[3] and not h for s, h in zip(subs, holders)),
            "g3_data_share": g3 / total if total else None,
            "products": dict(Counter(p for *_, held in subs for p in held)),
        }
        if region in regions:
            r = regions[region]
            rec |= {"region_name": r["name"], "region_kind": r["kind"], "lat": float(r["lat"]), "lon": float(r["lon"])}
        out[(region, start)] = rec
    return out


def _assert_same(got: dict, want: dict, key) -> None:
    for f in ("g3_coverage", "g3_data_share"):
        if want[f] is None:
            assert got.get(f) is None, (key, f)
        else:
            assert got[f] == pytest.approx(want[f], abs=1e-9), (key, f)
    strip = {"g3_coverage", "g3_data_share"}
    assert {k: v for k, v in got.items() if k not in strip} == {k: v for k, v in want.items() if k not in strip}, key


def test_city_records_equal_duckdb_recomputation(dense_city, city_replayed):
    settings, out, written = city_replayed
    assert set(written) == {"region_metrics"}  # no DLQ output: the triggers job reports late events
    k = settings.region_metrics.min_subscribers
    window_ms = settings.region_metrics.window_minutes * MIN
    records = _lines(out / "region-metrics.jsonl")
    assert [e for r in records if (e := errors("region-metrics", r))] == []
    got = {(r["region_id"], r["window_start"]): r for r in records}
    assert len(got) == len(records), "one record per (region, window)"

    reference = dense_city / "reference"
    every = _expected_windows(_duckdb_presence(out, reference, window_ms), reference, window_ms)
    want = {key: w for key, w in every.items() if w["subscribers"] >= k}
    assert set(got) == set(want), (
        f"missing {sorted(set(want) - set(got))[:3]}, extra {sorted(set(got) - set(want))[:3]}"
    )
    for key, w in want.items():
        _assert_same(got[key], w, key)

    # the city exercises what the records measure, so the comparison proves something
    assert any(w["subscribers"] < k for w in every.values()), "no region-window below the privacy threshold"
    v = list(got.values())
    assert sum(r["g3_subscribers"] for r in v) and sum(r["opportunities"] for r in v)
    assert any(0 < r["g3_capable"] < r["subscribers"] for r in v)
    assert any(0 < r["g3_coverage"] < 1 for r in v)
    assert any(0 < r.get("g3_data_share", 0) < 1 for r in v) and any(r.get("g3_data_share") == 0 for r in v)
    assert any(len(r["products"]) > 2 for r in v)
    assert len({r["region_id"] for r in v}) > 3 and len({r["window_start"] for r in v}) > 3
    normalised = [e["event_id"] for e in _lines(out / "signaling-normalised.jsonl")]
    assert len(normalised) > len(set(normalised)), "the city has no duplicate events"


# --- a hand-written case ------------------------------------------------------------------------------


def test_hand_written_case(small_city, tmp_path):
    ref_in = small_city / "reference"
    cells = list(csv.DictReader((ref_in / "cells.csv").open()))
    by_region = defaultdict(list)
    for c in cells:
        by_region[c["region_id"]].append(int(c["cell_id"]))
    region_a = next(r for r, cs in by_region.items() if r and len(cs) >= 2)
    region_b = next(r for r in by_region if r and r != region_a)
    a1, a2 = by_region[region_a][:2]
    b1 = by_region[region_b][0]
    outside = by_region[""][0]
    unknown_cell = 99_999_999
    assert unknown_cell not in {int(c["cell_id"]) for c in cells}
    handsets = list(csv.DictReader((ref_in / "handsets.csv").open()))
    cap_tac = next(h["tac"] for h in handsets if h["g3_capable"] == "true")
    non_tac = next(h["tac"] for h in handsets if h["g3_capable"] == "false")
    unknown_tac = "99999999"
    assert unknown_tac not in {h["tac"] for h in handsets}
    cap, non, unknown = cap_tac + "0000011", non_tac + "0000022", unknown_tac + "0000033"

    # subscribers; profiles are added to the city's reference (the roamer has none)
    g, o, p, x, late_b = "13900000011", "13900000012", "13900000013", "13900000015", "13900000016"
    roamer = "85291234567"
    b2, b3, nowhere, lost = "13900000017", "13900000018", "13900000019", "13900000020"
    products = {
        g: "g3_basic;fetion",
        o: "fetion;music_club",
        p: "",
        x: "12580",
        late_b: "g3_data_100",
        b2: "fetion",
        b3: "g3_basic",
        nowhere: "g3_basic",
        lost: "fetion",
    }
    inp = tmp_path / "in"
    shutil.copytree(ref_in, inp / "reference")
    with (ref_in / "profiles.csv").open() as f:
        template = next(csv.DictReader(f))
    assert not set(products) & {r["msisdn"] for r in csv.DictReader((ref_in / "profiles.csv").open())}
    with (inp / "reference" / "profiles.csv").open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(template))
        for i, (msisdn, prods) in enumerate(products.items()):
            w.writerow(template | {"msisdn": msisdn, "imsi": f"4600099{i:08d}", "products": prods})

    t0 = 1_793_600_000_000 // HOUR * HOUR  # a window start (15-minute windows)
    w_ms = 15 * MIN
    n = iter(range(1000))

    def sig(msisdn, at, cell, imei=None):
        rec = {
            "event_id": f"s{next(n)}",
            "event_type": "location_update",
            "ts": t0 + at,
            "msisdn": msisdn,
            "imsi": "46000" + msisdn[-10:],
            "rat": "LTE",
            "cell_id": cell,
        }
        return rec | ({"imei": imei} if imei else {})

    def xdr(msisdn, at, cell, rat, up, down):
        return {
            "event_id": f"x{next(n)}",
            "ts": t0 + at,
            "msisdn": msisdn,
            "imsi": "46000" + msisdn[-10:],
            "cell_id": cell,
            "rat": rat,
            "bytes_up": up,
            "bytes_down": down,
        }

    g_first = sig(g, 1 * MIN, a1, cap)
    o_newer = sig(o, 5 * MIN, a2, cap)
    o_older = sig(o, 4 * MIN, a1, non)  # arrives after o_newer (within the bound): o's latest IMEI is still `cap`
    signaling = [
        (g_first, None),
        (dict(g_first), g_first["ts"] + 5_000),  # exact duplicate: counted once
        (o_newer, None),
        (o_older, o_newer["ts"] + 1),
        (sig(p, w_ms - 1, a1, non), None),  # last ms of the window
        (sig(roamer, 6 * MIN, a2, unknown), None),  # no profile, a TAC not in the catalogue
        (sig(roamer, 7 * MIN, b1, cap), None),
        (sig(x, 9 * MIN, b1, cap), None),  # x's G3-capable IMEI is seen in region B only
        (sig(late_b, w_ms, a1, cap), None),  # exactly at the window end: the next window
        (sig(b2, 2 * MIN, b1, cap), None),
        (sig(b3, 3 * MIN, b1, cap), None),
        (sig(nowhere, 4 * MIN, outside, cap), None),  # a cell outside every region
        (sig(lost, 4 * MIN, unknown_cell, cap), None),  # a cell not in the reference
    ]
    g_bytes = xdr(g, 3 * MIN, a1, "LTE", 500, 500)
    xdrs = [
        (g_bytes, None),
        (dict(g_bytes), g_bytes["ts"] + 2_000),  # exact duplicate: its bytes count once
        (xdr(x, 8 * MIN, a1, "G3", 1000, 3000), None),  # x is present in A through this xDR only (no IMEI)
        (xdr(b2, 10 * MIN, b1, "G3", 7, 7), None),
    ]
    (inp / "signaling.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e, _ in sorted(signaling, key=lambda q: q[1] or q[0]["ts"]))
    )
    (inp / "xdr.jsonl").write_text(
        "".join(json.dumps(e) + "\n" for e, _ in sorted(xdrs, key=lambda q: q[1] or q[0]["ts"]))
    )
    out = tmp_path / "out"
    settings = make_settings(tmp_path / "w", region_metrics={"window_minutes": 15, "min_subscribers": 5})
    written = replay("region_metrics", settings, inp, out)
    assert set(written) == {"region_metrics"}

    region = next(r for r in csv.DictReader((ref_in / "regions.csv").open()) if r["region_id"] == region_a)
    # region A, first window: g, o, p, roamer, x = 5 = k; region B has 4 (roamer, x, b2, b3) and region A's
    # second window 1 (late_b): neither is published
    expected = {
        "region_id": region_a,
        "region_name": region["name"],
        "region_kind": region["kind"],
        "lat": float(region["lat"]),
        "lon": float(region["lon"]),
        "window_start": t0,
        "window_end": t0 + w_ms,
        "subscribers": 5,
        "g3_subscribers": 1,  # g
        "g3_capable": 2,  # g, o (latest IMEI by ts); not the roamer (unknown TAC), p, or x (capable only in B)
        "g3_coverage": 0.2,
        "opportunities": 1,  # o
        "g3_data_share": 0.8,  # 4000 G3 bytes of 5000, the duplicate xDR counted once
        "products": {"g3_basic": 1, "fetion": 2, "music_club": 1, "12580": 1},
    }
    records = _lines(out / "region-metrics.jsonl")
    assert [e for r in records if (e := errors("region-metrics", r))] == []
    assert len(records) == 1, records
    _assert_same(records[0], expected, region_a)
