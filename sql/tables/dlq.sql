-- Dead letters (schemas/dlq.schema.json): the original line, where it came from and why it was refused.
CREATE TABLE dlq (
  source STRING,
  reason STRING,
  detail STRING,
  event_id STRING,
  ts BIGINT,
  `raw` STRING
) WITH (
  ${connector}
);
