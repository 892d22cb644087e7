-- What each on-time, de-duplicated event tells the micro-region metrics: who was where, and for xDRs
-- the session's bytes and those on G3. One row per signaling event or xDR; measures BIGINT.
-- imei_key: fixed-width ts then IMEI (as in sql/behaviour/contributions.sql), so MAX() picks the latest IMEI by
-- event time whatever the arrival order; at an equal ts the greater IMEI string wins. Events without an IMEI
-- (most xDRs) have none and never win.
CREATE TEMPORARY VIEW region_contributions AS
SELECT msisdn, rowtime, cell_id,
       CAST(0 AS BIGINT) AS xdr_bytes,
       CAST(0 AS BIGINT) AS g3_bytes,
       CASE WHEN imei IS NOT NULL THEN LPAD(CAST(ts AS STRING), 19, '0') || imei END AS imei_key
FROM signaling_unique
UNION ALL
SELECT msisdn, rowtime, cell_id,
       COALESCE(bytes_up, CAST(0 AS BIGINT)) + COALESCE(bytes_down, CAST(0 AS BIGINT)),
       CASE WHEN rat = 'G3' THEN COALESCE(bytes_up, CAST(0 AS BIGINT)) + COALESCE(bytes_down, CAST(0 AS BIGINT))
            ELSE CAST(0 AS BIGINT) END,
       CASE WHEN imei IS NOT NULL THEN LPAD(CAST(ts AS STRING), 19, '0') || imei END
FROM xdr_unique;
