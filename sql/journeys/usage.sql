-- Each subscriber's bytes per app and clock hour (1-hour tumbling windows, UTC hours), from the de-duplicated
-- xDRs. The journeys job needs nothing finer: a trial's usage counts in whole hours (docs/journeys.md), so what
-- reaches Python (inputs.sql: only trials' hours) is one row per trial and hour with traffic, not every xDR.
CREATE TEMPORARY VIEW app_usage AS
SELECT msisdn, app, MIN(ts) / ${hour_ms} * ${hour_ms} AS hour_start, SUM(bytes_up + bytes_down) AS app_bytes
FROM TABLE(TUMBLE(TABLE xdr_unique, DESCRIPTOR(rowtime), INTERVAL '1' HOUR))
WHERE app IS NOT NULL
GROUP BY window_start, window_end, msisdn, app;
