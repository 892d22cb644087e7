-- Parse each raw signaling line and name its first defect (NULL problem = valid).
-- problem is '<reason>:<detail>'; reasons: bad_json, missing_field, unknown_event_type,
-- invalid_value, ts_out_of_range (see schemas/dlq.schema.json).
CREATE TEMPORARY VIEW signaling_parsed AS
SELECT
  line,
  line IS JSON OBJECT AS is_object,
  JSON_VALUE(line, '$.event_id') AS event_id,
  JSON_VALUE(line, '$.event_type') AS event_type,
  JSON_VALUE(line, '$.ts') AS ts_text,
  TRY_CAST(JSON_VALUE(line, '$.ts') AS BIGINT) AS ts,
  JSON_VALUE(line, '$.msisdn') AS msisdn,
  JSON_VALUE(line, '$.imsi') AS imsi,
  JSON_VALUE(line, '$.imei') AS imei,
  JSON_VALUE(line, '$.lac') AS lac_text,
  TRY_CAST(JSON_VALUE(line, '$.lac') AS INT) AS lac,
  JSON_VALUE(line, '$.cell_id') AS cell_id_text,
  TRY_CAST(JSON_VALUE(line, '$.cell_id') AS BIGINT) AS cell_id,
  UPPER(TRIM(JSON_VALUE(line, '$.rat'))) AS rat,
  JSON_VALUE(line, '$.vlr_plmn') AS vlr_plmn,
  JSON_VALUE(line, '$.called_number') AS called_number,
  JSON_VALUE(line, '$.calling_number') AS calling_number,
  JSON_VALUE(line, '$.duration_s') AS duration_text,
  TRY_CAST(JSON_VALUE(line, '$.duration_s') AS INT) AS duration_s,
  JSON_VALUE(line, '$.forward_to') AS forward_to
FROM signaling_raw;

CREATE TEMPORARY VIEW signaling_checked AS
SELECT *,
  CASE
    WHEN NOT is_object THEN 'bad_json:not a JSON object'
    WHEN event_id IS NULL THEN 'missing_field:event_id'
    WHEN event_type IS NULL THEN 'missing_field:event_type'
    WHEN ts_text IS NULL THEN 'missing_field:ts'
    WHEN msisdn IS NULL THEN 'missing_field:msisdn'
    WHEN imsi IS NULL THEN 'missing_field:imsi'
    WHEN event_type NOT IN (${event_types}) THEN 'unknown_event_type:' || event_type
    WHEN event_type = 'mo_call' AND called_number IS NULL THEN 'missing_field:called_number'
    WHEN ts IS NULL THEN 'invalid_value:ts'
    WHEN NOT REGEXP(msisdn, '^[0-9]{5,15}$') THEN 'invalid_value:msisdn'
    WHEN NOT REGEXP(imsi, '^[0-9]{14,15}$') THEN 'invalid_value:imsi'
    WHEN rat IS NOT NULL AND rat NOT IN (${rats}) THEN 'invalid_value:rat'
    WHEN lac_text IS NOT NULL AND lac IS NULL THEN 'invalid_value:lac'
    WHEN cell_id_text IS NOT NULL AND cell_id IS NULL THEN 'invalid_value:cell_id'
    WHEN duration_text IS NOT NULL AND duration_s IS NULL THEN 'invalid_value:duration_s'
    WHEN ts < ${ts_min_ms} OR ts >= ${ts_max_ms} THEN 'ts_out_of_range:' || ts_text
  END AS problem
FROM signaling_parsed;
