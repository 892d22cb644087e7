-- Triggers as read by the decision job (the triggers topic, and the journey steps on journey-events): the whole
-- line (Python parses it once) plus the key and event time.
CREATE TABLE ${table} (
  line STRING,
  msisdn AS JSON_VALUE(line, '$.msisdn'),
  ts AS TRY_CAST(JSON_VALUE(line, '$.ts') AS BIGINT)
) WITH (
  ${connector}
);
