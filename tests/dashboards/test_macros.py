"""The port of Grafana's variable substitution and the ClickHouse plugin's macros (no ClickHouse needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from touchpoint.dashboards import macros, model
from touchpoint.dashboards.macros import TimeRange, Variable, expand

# --- macros ------------------------------------------------------------------------------------------------------

RANGE = TimeRange(datetime(2026, 11, 2, 1, 0, tzinfo=UTC), datetime(2026, 11, 2, 3, 0, tzinfo=UTC), 30)


def test_macros_expand_like_the_clickhouse_plugin():
    sql = (
        "SELECT $__timeInterval(ts) AS time, count() / $__interval_s FROM t "
        "WHERE $__timeFilter(ts) AND ts_ms >= $__fromTime_ms AND day >= $__fromTime AND x <= $__toTime "
        "AND $__dateFilter(d)"
    )
    assert expand(sql, RANGE) == (
        "SELECT toStartOfInterval(toDateTime(ts), INTERVAL 30 second) AS time, count() / 30 FROM t "
        "WHERE ts >= toDateTime(1793581200) AND ts <= toDateTime(1793588400) "
        "AND ts_ms >= fromUnixTimestamp64Milli(1793581200000) AND day >= toDateTime(1793581200) "
        "AND x <= toDateTime(1793588400) AND d >= toDate('2026-11-02') AND d <= toDate('2026-11-02')"
    )


def test_template_variables_and_conditional_all():
    one = {"campaign": Variable("campaign", ("mall-entry-shop",), all=False)}
    every = {"campaign": Variable("campaign", ("a", "b'c"), all=True)}
    sql = "WHERE $__conditionalAll(campaign_id IN (${campaign:singlequote}), $campaign) AND k = '$campaign'"
    assert expand(sql, RANGE, one) == "WHERE campaign_id IN ('mall-entry-shop') AND k = ''mall-entry-shop''"
    assert expand(sql, RANGE, every) == "WHERE 1=1 AND k = ''a','b'c''"
    assert (
        expand("x IN (${campaign:singlequote}) [[campaign]] ${campaign:csv}", RANGE, every)
        == "x IN ('a','b\\'c') 'a','b'c' a,b'c"
    )
    single = {"k": Variable("k", ("mall",), multi=False)}
    assert (
        expand("kind = '${k}' AND $__from < $__to", RANGE, single) == "kind = 'mall' AND 1793581200000 < 1793588400000"
    )


def test_nice_interval_and_range():
    assert macros.nice_interval(0.2) == 1
    assert macros.nice_interval(7.2) == 10
    assert TimeRange.of(RANGE.start, RANGE.end).interval_s == 10  # 2 h / 1000 points
    with pytest.raises(model.DashboardError, match="before it starts"):
        TimeRange.of(RANGE.end, RANGE.start)
