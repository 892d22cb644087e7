"""Ordinary network traffic (touchpoint/harness/simulator/traffic.py): the density the setting asks for, the daily
curve, and nothing else changed — the same city at 3 and at 60 events per subscriber-hour has the same moves,
handsets and planted situations; only the location kinds that wait for a next event (dwell) may fire sooner or
more often."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint.harness.simulator import simulate
from touchpoint.harness.simulator.traffic import CURVE, OWN_EVENTS_PER_HOUR

ORDINARY = {"service_request", "data_session"}


def _city(tmp_path_factory, density: float, hours: float = 48) -> Path:
    out = tmp_path_factory.mktemp(f"city-{density:g}")
    s = make_settings(tmp_path_factory.mktemp("w"), simulator={"malformed_rate": 0, "duplicate_rate": 0})
    s.simulator.events_per_subscriber_hour = density  # on the object: the suite's environment beats an override
    simulate(s, seed=3, subscribers=120, hours=hours, out_dir=out)
    return out


@pytest.fixture(scope="module")
def sparse(tmp_path_factory) -> Path:
    return _city(tmp_path_factory, 0)


@pytest.fixture(scope="module")
def dense(tmp_path_factory) -> Path:
    return _city(tmp_path_factory, 60)


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.startswith("{") and x.endswith("}")]


def _summary(city: Path) -> dict:
    return json.loads((city / "summary.json").read_text())


def test_a_subscribers_own_activity_is_what_ordinary_traffic_tops_up(sparse):
    assert _summary(sparse)["events"]["per_subscriber_hour"] == pytest.approx(OWN_EVENTS_PER_HOUR, rel=0.15)


@pytest.mark.parametrize("density", [60, 110])
def test_the_city_has_the_density_asked_for(tmp_path_factory, dense, density):
    city = dense if density == 60 else _city(tmp_path_factory, density, hours=24)
    summary = _summary(city)
    assert summary["events"]["per_subscriber_hour"] == pytest.approx(density, rel=0.05)
    # most events are ordinary; the planted and natural situations stay rare
    signaling = summary["events"]["signaling"]
    assert sum(signaling[t] for t in ORDINARY) > 0.6 * summary["events"]["signaling_total"]
    assert sum(summary["truth"].values()) < 0.01 * (summary["events"]["signaling_total"] + summary["events"]["xdr"])


def test_the_daily_curve_is_quiet_at_night_and_twice_the_average_in_the_busy_hour(dense):
    assert sum(CURVE) == pytest.approx(24)
    tz = _summary(dense)["params"]["simulator"]["timezone"]
    from zoneinfo import ZoneInfo

    by_hour = Counter(
        datetime.fromtimestamp(e["ts"] / 1000, ZoneInfo(tz)).hour
        for e in _lines(dense / "signaling.jsonl")
        if e.get("event_type") in ORDINARY
    )
    mean = sum(by_hour.values()) / 24
    assert by_hour[3] < 0.4 * mean
    assert max(by_hour.values()) > 1.6 * mean


def _moves(city: Path) -> dict[str, list]:
    """Each subscriber's successive cells (a run of events on one cell counts once) and IMEIs seen."""
    out: dict[str, list] = defaultdict(list)
    for e in sorted(_lines(city / "signaling.jsonl"), key=lambda e: (e["msisdn"], e["ts"])):
        where = (e.get("cell_id"), e.get("vlr_plmn"))
        if not out[e["msisdn"]] or out[e["msisdn"]][-1] != where:
            out[e["msisdn"]].append(where)
    return out


def _rows(path: Path) -> list[dict]:
    return [{k: v for k, v in row.items() if k != "data_used_mb"} for row in csv.DictReader(path.open())]


def _own(city: Path) -> list[tuple]:
    """Every signaling event but the ordinary kinds and location updates (ordinary traffic makes those too), in
    order: what the subscriber did."""
    kept = (e for e in _lines(city / "signaling.jsonl") if e.get("event_type") not in ORDINARY | {"location_update"})
    return sorted(
        (e["msisdn"], e["event_type"], str(e.get("cell_id")), str(e.get("imei")), e["ts"] // 60_000) for e in kept
    )


def test_ordinary_traffic_moves_nobody_and_keeps_every_planted_situation(sparse, dense):
    assert _moves(dense) == _moves(sparse)
    # its own random stream: the reference data and the subscribers' own events are the same; only a quota plant's
    # usage so far (profiles' data_used_mb) counts the light sessions, so that its xDRs still cross the thresholds
    for ref in sorted((sparse / "reference").iterdir()):
        assert _rows(dense / "reference" / ref.name) == _rows(ref), ref.name
    assert _own(dense) == _own(sparse)
    s, d = _summary(sparse), _summary(dense)
    assert d["plants_placed"] == s["plants_placed"] and d["trials"] == s["trials"]
    # kinds that do not wait for a next location event find exactly the same situations
    waits = {"dwell"}
    assert {k: v for k, v in d["truth"].items() if k not in waits} == {
        k: v for k, v in s["truth"].items() if k not in waits
    }
