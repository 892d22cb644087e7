-- Raw signaling lines exactly as the probes sent them; parsed by ingest so bad JSON reaches the DLQ.
-- Event time is the ts of a valid line (signaling_time: the ingest rules, sql/ingest/functions.sql). An invalid
-- line is no event: its rowtime is the epoch, which moves no watermark (a watermark only rises) and which nothing
-- but the DLQ sees. Streaming, Flink's Kafka source keeps the watermark per partition, so event time holds however
-- the producers keyed the lines and however unevenly the partitions are read: a line is late only when it is more
-- than the out-of-orderness bound behind its own partition (docs/operations.md).
CREATE TABLE signaling_raw (
  line STRING,
  rowtime AS TO_TIMESTAMP_LTZ(COALESCE(signaling_time(line, CAST(${ts_min_ms} AS BIGINT), CAST(${ts_max_ms} AS BIGINT), '${event_types}',
                                    '${rats}'), 0), 3),
  WATERMARK FOR rowtime AS rowtime - INTERVAL '${out_of_orderness_s}' SECOND
) WITH (
  ${connector}
);
