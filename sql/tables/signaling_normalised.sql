-- Valid signaling events, typed; as a source it gets an event-time attribute and watermark (schemas/signaling.schema.json).
CREATE TABLE signaling_normalised (
  event_id STRING,
  event_type STRING,
  ts BIGINT,
  msisdn STRING,
  imsi STRING,
  imei STRING,
  lac INT,
  cell_id BIGINT,
  rat STRING,
  vlr_plmn STRING,
  called_number STRING,
  calling_number STRING,
  duration_s INT,
  forward_to STRING${time_attributes}
) WITH (
  ${connector}
);
