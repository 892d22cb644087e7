-- Hourly per-subscriber behaviour (schemas/behaviour.schema.json); nulls are left out of the JSON records.
CREATE TABLE behaviour (
  msisdn STRING,
  hour_start BIGINT,
  calls_mo BIGINT,
  calls_mt BIGINT,
  call_seconds BIGINT,
  sms BIGINT,
  bytes_up BIGINT,
  bytes_down BIGINT,
  g3_bytes BIGINT,
  g3_data_share DOUBLE,
  hotline_dials BIGINT,
  distinct_cells BIGINT,
  regions ARRAY<STRING>,
  roaming BOOLEAN,
  last_imei STRING,
  last_tac STRING
) WITH (
  ${connector}
);
