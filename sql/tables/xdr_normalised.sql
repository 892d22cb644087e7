-- Valid xDRs, typed; as a source it gets an event-time attribute and watermark (schemas/xdr.schema.json).
CREATE TABLE xdr_normalised (
  event_id STRING,
  ts BIGINT,
  msisdn STRING,
  imsi STRING,
  imei STRING,
  lac INT,
  cell_id BIGINT,
  rat STRING,
  apn STRING,
  app STRING,
  bytes_up BIGINT,
  bytes_down BIGINT,
  duration_s INT${time_attributes}
) WITH (
  ${connector}
);
