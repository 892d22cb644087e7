-- Benchmark baseline: the same sources and a sink, with no work in between.
INSERT INTO passthrough_out
SELECT line FROM signaling_raw
UNION ALL
SELECT line FROM xdr_raw;
