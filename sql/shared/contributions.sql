-- What each on-time, de-duplicated event tells the members that count events per subscriber and hour (behaviour)
-- and per micro-region and window (region_metrics): one row per signaling event or xDR, all measures BIGINT (a
-- CASE of 1/0 is INT, and SUM(INT) would stay INT), with the micro-region of its cell.
-- hotline_dials: MO calls to the directory number or a hotline; roaming: a visited network outside the home PLMNs;
-- imei_key: fixed-width ts then IMEI, so MAX() picks the latest IMEI by event time whatever the arrival order (at
-- an equal ts the greater IMEI string wins); events without an IMEI (most xDRs) have none and never win.
CREATE TEMPORARY VIEW contributions AS
SELECT msisdn, rowtime, cell_id,
       CAST(CASE WHEN event_type = 'mo_call' THEN 1 ELSE 0 END AS BIGINT) AS calls_mo,
       CAST(CASE WHEN event_type = 'mt_call' THEN 1 ELSE 0 END AS BIGINT) AS calls_mt,
       CASE WHEN event_type IN ('mo_call', 'mt_call') THEN COALESCE(duration_s, CAST(0 AS BIGINT))
            ELSE CAST(0 AS BIGINT) END AS call_seconds,
       CAST(CASE WHEN event_type IN ('mo_sms', 'mt_sms') THEN 1 ELSE 0 END AS BIGINT) AS sms,
       CAST(0 AS BIGINT) AS bytes_up,
       CAST(0 AS BIGINT) AS bytes_down,
       CAST(0 AS BIGINT) AS g3_bytes,
       CAST(CASE WHEN event_type = 'mo_call'
                  AND called_number IN ('${directory_number}', ${hotline_numbers}) THEN 1 ELSE 0 END AS BIGINT)
         AS hotline_dials,
       CAST(CASE WHEN vlr_plmn IS NOT NULL AND vlr_plmn NOT IN (${home_plmns}) THEN 1 ELSE 0 END AS BIGINT)
         AS roaming,
       CASE WHEN imei IS NOT NULL THEN LPAD(CAST(ts AS STRING), 19, '0') || imei END AS imei_key
FROM signaling_unique
UNION ALL
SELECT msisdn, rowtime, cell_id,
       CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT),
       COALESCE(bytes_up, CAST(0 AS BIGINT)),
       COALESCE(bytes_down, CAST(0 AS BIGINT)),
       CASE WHEN rat = 'G3' THEN COALESCE(bytes_up, CAST(0 AS BIGINT)) + COALESCE(bytes_down, CAST(0 AS BIGINT))
            ELSE CAST(0 AS BIGINT) END,
       CAST(0 AS BIGINT), CAST(0 AS BIGINT),
       CASE WHEN imei IS NOT NULL THEN LPAD(CAST(ts AS STRING), 19, '0') || imei END
FROM xdr_unique;

-- Cells joined as of the event's time, like sql/triggers/located.sql, but LEFT so that events on an unknown (or no)
-- cell still count, with no region. One join for both members: a temporal join keeps every event in its state
-- until the watermark passes it, and it sees every event of both feeds (docs/performance.md). The event travels
-- packed in one ROW, as in sql/shared/signaling_on_time.sql: otherwise the planner pushes each reader's columns
-- into the join and gives each member a join of its own.
CREATE TEMPORARY VIEW contributions_packed AS
SELECT cell_id, rowtime,
       CAST(ROW(msisdn, cell_id, calls_mo, calls_mt, call_seconds, sms, bytes_up, bytes_down, g3_bytes, hotline_dials,
       roaming, imei_key) AS ROW<msisdn STRING, cell_id BIGINT, calls_mo BIGINT, calls_mt BIGINT, call_seconds
       BIGINT, sms BIGINT, bytes_up BIGINT, bytes_down BIGINT, g3_bytes BIGINT, hotline_dials BIGINT, roaming
       BIGINT, imei_key STRING>) AS e
FROM contributions;

CREATE TEMPORARY VIEW located_contributions AS
SELECT e.e.msisdn AS msisdn, e.e.cell_id AS cell_id, e.e.calls_mo AS calls_mo, e.e.calls_mt AS calls_mt, e.e.call_seconds
       AS call_seconds, e.e.sms AS sms, e.e.bytes_up AS bytes_up, e.e.bytes_down AS bytes_down, e.e.g3_bytes AS
       g3_bytes, e.e.hotline_dials AS hotline_dials, e.e.roaming AS roaming, e.e.imei_key AS imei_key, e.rowtime,
       c.region_id
FROM contributions_packed AS e
LEFT JOIN cells FOR SYSTEM_TIME AS OF e.rowtime AS c ON e.cell_id = c.cell_id;
