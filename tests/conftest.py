"""Shared fixtures: settings in a temporary work dir, a real Tansu broker and ClickHouse server on free
ports (one per test session), and a small simulated city shared by the Flink tests."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support import make_settings
from touchpoint import ROOT
from touchpoint.config import Settings
from touchpoint.harness.simulator.traffic import OWN_EVENTS_PER_HOUR
from touchpoint.infra import stack

# The suite's cities are sparse (a subscriber's own activity only, ~3 events per subscriber-hour) so that the
# many Flink, Kafka and cluster runs stay short; `dense_city` and the bench run at a network's density.
os.environ.setdefault("TOUCHPOINT_SIMULATOR__EVENTS_PER_SUBSCRIBER_HOUR", str(OWN_EVENTS_PER_HOUR))

# PyFlink's thread mode and the Python workers find libpython/pemja through the venv on PATH.
os.environ["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("touchpoint")


@pytest.fixture(scope="session")
def broker(session_dir) -> str:
    """A real Tansu broker for the whole session; yields its bootstrap address."""
    run = session_dir / "broker-run"
    svc = stack.start_tansu(run, stack.free_port())
    yield svc.address
    stack.stop(run, "tansu", "tansu")


@pytest.fixture(scope="session")
def clickhouse_server(session_dir) -> int:
    """The Debian ClickHouse server on free ports; yields the native-protocol port."""
    run = session_dir / "ch-run"
    svc = stack.start_clickhouse(run, session_dir / "clickhouse", stack.free_port(), stack.free_port())
    yield svc.port
    stack.stop(run, "clickhouse", "clickhouse")


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "work")


@pytest.fixture(scope="session")
def small_city(session_dir) -> Path:
    """A small city (files) with every defect kind present, shared by the ingest tests."""
    from touchpoint.harness.simulator import simulate

    out = session_dir / "city"
    s = make_settings(session_dir / "city-work", simulator={"malformed_rate": 0.01, "duplicate_rate": 0.01})
    simulate(s, seed=5, subscribers=150, hours=6, out_dir=out)
    return out


@pytest.fixture(scope="session")
def dense_city(session_dir) -> Path:
    """A city at a network's density (simulator.events_per_subscriber_hour's default, ~60 per subscriber-hour:
    mostly ordinary traffic on the subscriber's cell) with every defect kind, for the exactness of ingest and of
    the per-event jobs where most events repeat the last cell."""
    from touchpoint.config import Simulator
    from touchpoint.harness.simulator import simulate

    out = session_dir / "dense-city"
    s = make_settings(session_dir / "dense-city-work", simulator={"malformed_rate": 0.01, "duplicate_rate": 0.01})
    # set on the object: the suite's environment variable (above) beats a settings override
    s.simulator.events_per_subscriber_hour = Simulator.model_fields["events_per_subscriber_hour"].default
    s.simulator.start += timedelta(hours=10)  # daytime: the nights are a quarter as dense
    simulate(s, seed=7, subscribers=100, hours=8, out_dir=out)
    return out


@pytest.fixture(scope="session")
def replayed_city(tmp_path_factory):
    """A 250-subscriber, 30 h city with every trigger kind, replayed through the whole pipeline (``replay all``)
    with the example campaigns: (city dir, settings, output dir). Shared by the triggers and decisions tests."""
    from touchpoint.harness.simulator import simulate
    from touchpoint.runner.embedded import replay

    city = tmp_path_factory.mktemp("trig-city")
    simulate(make_settings(tmp_path_factory.mktemp("w")), seed=21, subscribers=250, hours=30, out_dir=city)
    settings = make_settings(tmp_path_factory.mktemp("w2"))
    out = tmp_path_factory.mktemp("trig-out")
    replay("all", settings, city, out)
    return city, settings, out
