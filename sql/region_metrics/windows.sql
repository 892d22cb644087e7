-- Level 2: one row per (micro-region, window). Its input is one row per present subscriber (product NULL, with
-- the flags and bytes) plus one row per product that subscriber holds (flags FALSE, no bytes), so plain counts
-- give the metrics and COLLECT(product) is the product distribution: a MULTISET, i.e. product -> number of
-- present subscribers holding it (the JSON sink writes it as an object). The level-1 rows carry the window's
-- last millisecond as rowtime, so the same tumbling window puts them back in their own window: an
-- append-only window aggregation, emitted when the watermark passes the window's end.
CREATE TEMPORARY VIEW region_members AS
SELECT rowtime, region_id, xdr_bytes, g3_bytes, g3_capable, g3_holder, CAST(NULL AS STRING) AS product
FROM region_subscribers
UNION ALL
SELECT s.rowtime, s.region_id, CAST(0 AS BIGINT), CAST(0 AS BIGINT), FALSE, FALSE, u.product
FROM region_subscribers AS s
CROSS JOIN UNNEST(s.products) AS u (product)
WHERE u.product <> '';

CREATE TEMPORARY VIEW region_windows AS
SELECT window_start, window_end, window_time AS rowtime, region_id,
       COUNT(*) FILTER (WHERE product IS NULL) AS subscribers,
       COUNT(*) FILTER (WHERE product IS NULL AND g3_holder) AS g3_subscribers,
       COUNT(*) FILTER (WHERE product IS NULL AND g3_capable) AS g3_capable,
       COUNT(*) FILTER (WHERE product IS NULL AND g3_capable AND NOT g3_holder) AS opportunities,
       SUM(xdr_bytes) AS xdr_bytes,
       SUM(g3_bytes) AS g3_bytes,
       COLLECT(product) AS products
FROM TABLE(TUMBLE(TABLE region_members, DESCRIPTOR(rowtime), INTERVAL '${window_minutes}' MINUTE))
GROUP BY window_start, window_end, window_time, region_id;
