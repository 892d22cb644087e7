-- The pace of a sparse feed's de-duplication (xdr_on_time.sql, orders_on_time.sql): the watermark of the feed and
-- of the denser feeds the job reads (jobs.ingest.DENSER), carried by views without rows (<feed>_clock). A
-- de-duplication holds each event until the watermark passes it. A sparse feed's partitions go idle between events
-- (event_time.idle_timeout_ms) and the rest of the job goes on without them, so an event held then would come out
-- only when that feed moves again, behind everything else: late for the joins, windows and journeys that read a
-- denser feed too. Following the denser feeds' watermark as well, it comes out in time. A dense feed never waits
-- for a sparse one (signaling has no pace).
CREATE TEMPORARY VIEW ${feed}_pace AS
${clocks};
