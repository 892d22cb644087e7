-- Behaviour records (schemas/behaviour.schema.json). hour_start is the window start in ms since the epoch
-- (table.local-time-zone is UTC); the latest IMEI and its TAC (first 8 digits) come out of imei_key.
INSERT INTO behaviour
SELECT msisdn,
       UNIX_TIMESTAMP(CAST(window_start AS STRING)) * 1000 AS hour_start,
       calls_mo, calls_mt, call_seconds, sms, bytes_up, bytes_down, g3_bytes,
       CASE WHEN bytes_up + bytes_down > 0 THEN CAST(g3_bytes AS DOUBLE) / (bytes_up + bytes_down) END
         AS g3_data_share,
       hotline_dials, distinct_cells, regions, roaming,
       SUBSTRING(imei_key FROM 20) AS last_imei,
       SUBSTRING(imei_key FROM 20 FOR 8) AS last_tac
FROM behaviour_hourly;
