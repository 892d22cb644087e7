-- handset_change: a signaling event whose IMEI differs from the same IMSI's previous IMEI (docs/triggers.md),
-- with both handsets looked up by TAC (first 8 digits) in the catalogue; null fields for an unknown TAC.
CREATE TEMPORARY VIEW handset_change_found AS
SELECT x.msisdn, x.ts, JSON_OBJECT(
  'old_imei' VALUE x.old_imei, 'new_imei' VALUE x.new_imei, 'old_tac' VALUE x.old_tac, 'new_tac' VALUE x.new_tac,
  'old_brand' VALUE o.brand, 'old_model' VALUE o.model, 'old_tier' VALUE o.tier,
  'old_g3_capable' VALUE o.g3_capable,
  'new_brand' VALUE n.brand, 'new_model' VALUE n.model, 'new_tier' VALUE n.tier,
  'new_g3_capable' VALUE n.g3_capable
  NULL ON NULL) AS context
FROM (
  SELECT msisdn, ts, rowtime, old_imei, imei AS new_imei, SUBSTRING(old_imei FROM 1 FOR 8) AS old_tac, new_tac
  FROM (
    SELECT msisdn, ts, rowtime, imei, new_tac, LAG(imei) OVER (PARTITION BY imsi ORDER BY rowtime) AS old_imei
    FROM (
      -- only what the rule reads (the TAC computed before the OVER, so that the planner hands it these columns
      -- and not the whole event, which the OVER keeps until the watermark passes it)
      SELECT imsi, msisdn, ts, rowtime, imei, SUBSTRING(imei FROM 1 FOR 8) AS new_tac
      FROM signaling_unique
      WHERE imei IS NOT NULL
    )
  )
  WHERE old_imei IS NOT NULL AND old_imei <> imei
) AS x
LEFT JOIN handsets FOR SYSTEM_TIME AS OF x.rowtime AS o ON x.old_tac = o.tac
LEFT JOIN handsets FOR SYSTEM_TIME AS OF x.rowtime AS n ON x.new_tac = n.tac;
