-- Events per minute of event time, per source and event type (pipeline health).
CREATE TABLE traffic (
  window_start BIGINT,
  window_end BIGINT,
  source STRING,
  event_type STRING,
  events BIGINT
) WITH (
  ${connector}
);
