"""The ordered input buffer's modes (jobs/ordered.py): which one a job runs in, and a replay's end. What the
buffer does to records is held by the decision, effect and journeys tests, in replay and streaming."""

import pytest

from jobs.ordered import Mode, Ordering
from touchpoint.config import ConfigError, load_settings


def test_a_stream_waits_ordering_reorder_ms_and_a_replay_follows_event_time():
    s = load_settings(ordering={"reorder_ms": 250})
    assert Ordering.of_job(s, streaming=True) == Ordering(Mode.ARRIVAL, reorder_ms=250)
    replay = Ordering.of_job(s, streaming=False, data_end=1_000)
    assert replay.mode is Mode.EVENT_TIME and not replay.by_arrival


def test_only_a_timer_past_a_replays_data_is_its_flush():
    replay = Ordering.event_time(data_end=1_000)
    assert not replay.past_end(1_000)
    assert replay.past_end(1_001)
    assert not Ordering.arrival(100).past_end(10**15)


def test_the_old_place_of_reorder_ms_says_where_it_went():
    with pytest.raises(ConfigError, match=r"decisions: reorder_ms is now ordering\.reorder_ms"):
        load_settings(decisions={"reorder_ms": 500})
