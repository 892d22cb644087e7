-- Hourly behaviour buckets (schemas/behaviour.schema.json) as read by the decision job: the line plus its key.
CREATE TABLE behaviour_in (
  line STRING,
  msisdn AS JSON_VALUE(line, '$.msisdn'),
  hour_start AS TRY_CAST(JSON_VALUE(line, '$.hour_start') AS BIGINT)
) WITH (
  ${connector}
);
