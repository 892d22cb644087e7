"""What each job declares (jobs/__init__.py) and what is derived from it: the order of ``replay all``, the jobs
upstream of a job, and the README's table of jobs and topics (held equal to the declarations). No Flink needed."""

from __future__ import annotations

import re

import pytest

from jobs import JOBS, job, pipeline_order, upstream
from touchpoint import ROOT
from touchpoint.config import Topics


def test_every_job_declares_its_topics():
    keys = set(Topics.model_fields)
    for name in JOBS:
        j = job(name)
        assert j.description and j.outputs, name
        assert set(j.inputs) | set(j.outputs) <= keys, f"{name}: unknown topic keys"


def test_pipeline_order_puts_every_writer_before_its_readers():
    order = pipeline_order()
    assert order == ["events", "decisions", "effect"]
    for i, reader in enumerate(order):
        for writer in order[i + 1 :]:
            assert not set(job(reader).inputs) & set(job(writer).outputs), f"{writer} runs after its reader {reader}"
    assert "passthrough" not in order


@pytest.mark.parametrize(
    "name, expected",
    [
        ("decisions", ["events", "decisions"]),
        ("effect", ["events", "decisions", "effect"]),
        ("region_metrics", ["events"]),
        ("ingest", ["events"]),
    ],
)
def test_upstream_follows_the_topics(name, expected):
    assert upstream(name) == expected


def test_a_group_job_is_its_members():
    events = job("events")
    assert set(events.members) == {"ingest", "traffic", "triggers", "behaviour", "region_metrics", "journeys"}
    assert set(events.inputs) == {k for n in events.members for k in job(n).inputs}
    assert set(events.outputs) == {k for n in events.members for k in job(n).outputs}
    assert events.datastream  # journeys' Python operator
    # the pipeline runs the group, never a member beside it (each topic written by one pipeline job)
    order = pipeline_order()
    assert not set(events.members) & set(order)
    writers = [k for n in order for k in job(n).outputs if k != "dlq"]
    assert len(writers) == len(set(writers))


def test_no_job_takes_event_time_from_a_topic_another_job_wrote():
    """Event time comes from the raw partitions: a job reads the raw topics, never ingest's normalised ones, whose
    partitions interleave raw partitions in the order ingest read them (docs/operations.md)."""
    normalised = set(job("ingest").outputs) - {"dlq"}
    assert normalised == {"signaling_normalised", "xdr_normalised", "orders_normalised"}
    assert not [n for n in JOBS if set(job(n).inputs) & normalised]


def test_readme_job_table_matches_the_declarations():
    topics = Topics()
    text = (ROOT / "README.md").read_text()
    table = text[text.index("| job | reads | writes |") :].split("\n\n")[0]
    rows = {}
    for line in table.splitlines():
        m = re.match(r"^\| `([a-z_]+)` \| (.*?) \| (.*?) \|$", line)
        if m and m.group(1) in JOBS:
            rows[m.group(1)] = (
                set(re.findall(r"`([a-z-]+)`", m.group(2))),
                set(re.findall(r"`([a-z-]+)`", m.group(3))),
            )
    assert set(rows) == set(JOBS)
    for name, (reads, writes) in rows.items():
        j = job(name)
        assert reads == {getattr(topics, k) for k in j.inputs + j.reference + j.feedback}, name
        assert writes == {getattr(topics, k) for k in j.outputs}, name


def test_a_feedback_input_closes_a_loop_without_ordering_the_pipeline():
    """A job's feedback topics are written by a job after it (the loop), and leave the pipeline order as it is."""
    order = pipeline_order()
    assert job("decisions").feedback == ("uplift", "guardrail")
    for i, reader in enumerate(order):
        for key in job(reader).feedback:
            assert key in set(Topics.model_fields), key
            assert any(key in job(w).outputs for w in order[i + 1 :]), f"{reader}: nothing after it writes {key}"
