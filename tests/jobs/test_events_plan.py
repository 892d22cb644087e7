"""The events job's plan: what its members have in common is planned once (docs/performance.md, "At a network's
density"). The sharing rests on planner details — an event packed in one ROW so that a reader's columns are not
pushed into a join, a flag computed over both sides of a join so that a reader's filter is not, sub-plans reused
by digest (touchpoint/flink/environment.py) — which an edit to a recipe can undo without changing one result, only
the cost of every event. These tests hold the plan's shape."""

from __future__ import annotations

import re
from collections import Counter

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> str:
    from tests.support import make_settings
    from touchpoint.runner.embedded import build

    p = build("events", make_settings(tmp_path_factory.mktemp("plan") / "work"), mode="streaming")
    return p.explain().split("== Optimized Execution Plan ==")[1]


def _temporal_joins(plan: str) -> Counter:
    """(join type, the left side's key) of each temporal join in the plan."""
    return Counter(re.findall(r"TemporalJoin\(joinType=\[(\w+)\], where=\[\(\((\$?\w+) = ", plan))


def test_every_event_is_joined_with_the_cells_once_for_behaviour_and_region_metrics(plan):
    joins = _temporal_joins(plan)
    # sql/shared/contributions.sql (signaling and xDRs), and sql/triggers/located.sql (signaling, its own watermark)
    assert joins[("LeftOuterJoin", "cell_id")] == 1, joins
    assert joins[("InnerJoin", "cell_id")] == 1, joins


def test_every_signaling_event_is_joined_with_the_number_ranges_once_for_both_roaming_kinds(plan):
    assert _temporal_joins(plan)[("LeftOuterJoin", "prefix")] == 1  # sql/triggers/roaming.sql


def test_each_feed_is_deduplicated_once(plan):
    assert plan.count("WindowDeduplicate(") == 3  # signaling, xDRs, orders (sql/shared/)


def test_the_over_windows_keep_only_the_columns_their_rule_reads(plan):
    # an OVER keeps each row until the watermark passes it: the whole event there would cost state and copies
    overs = re.findall(r"OverAggregate\(partitionBy=\[[^\]]*\].*?select=\[([^\]]*)\]", plan)
    assert overs
    assert [o for o in overs if "event_id" in o or "called_number" in o] == []
