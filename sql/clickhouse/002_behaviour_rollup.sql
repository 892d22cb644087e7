-- The 48-hour behaviour rollup and the handset snapshot, maintained by materialized views on `behaviour`.
--
-- behaviour_daily: one row per (msisdn, UTC day) holding the set of that day's hourly buckets as tuples
-- (groupUniqArray state). A replayed or re-produced behaviour record is the same tuple, so the set absorbs it:
-- the rollup is exact under at-least-once loading without FINAL, unlike a SummingMergeTree of counts.
-- Tuple positions: 1 hour_start, 2 calls_mo, 3 calls_mt, 4 call_seconds, 5 sms, 6 bytes_up, 7 bytes_down,
-- 8 g3_bytes, 9 hotline_dials, 10 distinct_cells, 11 regions, 12 roaming, 13 last_tac.
CREATE TABLE IF NOT EXISTS ${db}.behaviour_daily
(
    msisdn String,
    day    Date,
    hours  AggregateFunction(groupUniqArray, Tuple(DateTime, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                                                   UInt64, UInt64, Array(String), UInt8, String))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (msisdn, day)
${ttl(day)};

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.behaviour_daily_mv TO ${db}.behaviour_daily AS
SELECT
    msisdn,
    toDate(hour_start) AS day,
    groupUniqArrayState(tuple(hour_start, calls_mo, calls_mt, call_seconds, sms, bytes_up, bytes_down, g3_bytes,
                              hotline_dials, distinct_cells, arraySort(regions), roaming, last_tac)) AS hours
FROM ${db}.behaviour
GROUP BY msisdn, day;

-- Every hour that has behaviour (tiny): the "newest hour loaded" that behaviour_48h is relative to.
CREATE TABLE IF NOT EXISTS ${db}.behaviour_hours
(
    hour_start DateTime
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(hour_start)
ORDER BY hour_start
${ttl(hour_start)};

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.behaviour_hours_mv TO ${db}.behaviour_hours AS
SELECT hour_start FROM ${db}.behaviour GROUP BY hour_start;

-- Per-subscriber totals over the 48 clock hours ending with the newest hour loaded (hour_start in
-- [newest - 47 h, newest]); names follow the decision job's rollup (udfs/behaviour.py) without the _48h suffix.
-- Subscribers without behaviour in the window have no row.
CREATE VIEW IF NOT EXISTS ${db}.behaviour_48h AS
SELECT
    msisdn,
    (SELECT max(hour_start) FROM ${db}.behaviour_hours) - 47 * 3600 AS window_start,
    (SELECT max(hour_start) FROM ${db}.behaviour_hours) + 3600 AS window_end,
    count() AS active_hours,
    sum(h.2) AS calls_mo,
    sum(h.3) AS calls_mt,
    sum(h.2 + h.3) AS calls,
    sum(h.4) AS call_seconds,
    sum(h.4) / 60 AS call_minutes,
    sum(h.5) AS sms,
    sum(h.6) AS bytes_up,
    sum(h.7) AS bytes_down,
    sum(h.6 + h.7) / 1048576 AS data_mb,
    sum(h.8) AS g3_bytes,
    sum(h.8) / 1048576 AS g3_data_mb,
    if(sum(h.6 + h.7) > 0, sum(h.8) / sum(h.6 + h.7), NULL) AS g3_data_share,
    sum(h.9) AS hotline_dials,
    sum(h.10) AS cell_hours,
    arraySort(groupUniqArrayArray(h.11)) AS regions,
    length(groupUniqArrayArray(h.11)) AS distinct_regions,
    sum(h.12) AS roaming_hours,
    argMaxIf(h.13, h.1, h.13 != '') AS last_tac
FROM
(
    SELECT msisdn, arrayJoin(groupUniqArrayMerge(hours)) AS h
    FROM ${db}.behaviour_daily
    WHERE day >= toDate((SELECT max(hour_start) FROM ${db}.behaviour_hours) - 47 * 3600)
    GROUP BY msisdn
)
WHERE h.1 > (SELECT max(hour_start) FROM ${db}.behaviour_hours) - 48 * 3600
GROUP BY msisdn;

-- The latest TAC seen per subscriber (from behaviour hours that had an IMEI). ReplacingMergeTree(updated)
-- keeps the row with the newest hour: query with FINAL (or argMax(tac, updated) ... GROUP BY msisdn).
CREATE TABLE IF NOT EXISTS ${db}.handset_snapshot
(
    msisdn  String,
    tac     String,
    updated DateTime
)
ENGINE = ReplacingMergeTree(updated)
ORDER BY msisdn;

CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.handset_snapshot_mv TO ${db}.handset_snapshot AS
SELECT msisdn, last_tac AS tac, hour_start AS updated
FROM ${db}.behaviour
WHERE last_tac != '';
