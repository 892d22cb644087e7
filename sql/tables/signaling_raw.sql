-- Raw signaling lines exactly as the probes sent them; parsed by ingest so bad JSON reaches the DLQ.
CREATE TABLE signaling_raw (
  line STRING
) WITH (
  ${connector}
);
