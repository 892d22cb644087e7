-- Parse each raw xDR line and name its first defect (NULL problem = valid); same reasons as signaling.
CREATE TEMPORARY VIEW xdr_parsed AS
SELECT
  line,
  line IS JSON OBJECT AS is_object,
  JSON_VALUE(line, '$.event_id') AS event_id,
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
  JSON_VALUE(line, '$.apn') AS apn,
  JSON_VALUE(line, '$.app') AS app,
  JSON_VALUE(line, '$.bytes_up') AS bytes_up_text,
  TRY_CAST(JSON_VALUE(line, '$.bytes_up') AS BIGINT) AS bytes_up,
  JSON_VALUE(line, '$.bytes_down') AS bytes_down_text,
  TRY_CAST(JSON_VALUE(line, '$.bytes_down') AS BIGINT) AS bytes_down,
  JSON_VALUE(line, '$.duration_s') AS duration_text,
  TRY_CAST(JSON_VALUE(line, '$.duration_s') AS INT) AS duration_s
FROM xdr_raw;

CREATE TEMPORARY VIEW xdr_checked AS
SELECT *,
  CASE
    WHEN NOT is_object THEN 'bad_json:not a JSON object'
    WHEN event_id IS NULL THEN 'missing_field:event_id'
    WHEN ts_text IS NULL THEN 'missing_field:ts'
    WHEN msisdn IS NULL THEN 'missing_field:msisdn'
    WHEN imsi IS NULL THEN 'missing_field:imsi'
    WHEN rat IS NULL THEN 'missing_field:rat'
    WHEN bytes_up_text IS NULL THEN 'missing_field:bytes_up'
    WHEN bytes_down_text IS NULL THEN 'missing_field:bytes_down'
    WHEN ts IS NULL THEN 'invalid_value:ts'
    WHEN NOT REGEXP(msisdn, '^[0-9]{5,15}$') THEN 'invalid_value:msisdn'
    WHEN NOT REGEXP(imsi, '^[0-9]{14,15}$') THEN 'invalid_value:imsi'
    WHEN rat NOT IN (${rats}) THEN 'invalid_value:rat'
    WHEN bytes_up IS NULL OR bytes_up < 0 THEN 'invalid_value:bytes_up'
    WHEN bytes_down IS NULL OR bytes_down < 0 THEN 'invalid_value:bytes_down'
    WHEN lac_text IS NOT NULL AND lac IS NULL THEN 'invalid_value:lac'
    WHEN cell_id_text IS NOT NULL AND cell_id IS NULL THEN 'invalid_value:cell_id'
    WHEN duration_text IS NOT NULL AND duration_s IS NULL THEN 'invalid_value:duration_s'
    WHEN ts < ${ts_min_ms} OR ts >= ${ts_max_ms} THEN 'ts_out_of_range:' || ts_text
  END AS problem
FROM xdr_parsed;
