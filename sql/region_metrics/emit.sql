-- Region-metrics records (schemas/region-metrics.schema.json). Privacy (k-anonymity): a region-window with
-- fewer than region_metrics.min_subscribers subscribers present is not published at all. The region's name,
-- kind and centroid come from the regions reference as of the window's end (absent if the region is missing
-- there). window_start/window_end in ms since the epoch (table.local-time-zone is UTC); g3_data_share is
-- absent when the region-window had no xDR bytes.
INSERT INTO region_metrics
SELECT w.region_id, r.name AS region_name, r.kind AS region_kind, r.lat, r.lon,
       UNIX_TIMESTAMP(CAST(w.window_start AS STRING)) * 1000 AS window_start,
       UNIX_TIMESTAMP(CAST(w.window_end AS STRING)) * 1000 AS window_end,
       w.subscribers, w.g3_subscribers, w.g3_capable,
       CAST(w.g3_subscribers AS DOUBLE) / w.subscribers AS g3_coverage,
       w.opportunities,
       CASE WHEN w.xdr_bytes > 0 THEN CAST(w.g3_bytes AS DOUBLE) / w.xdr_bytes END AS g3_data_share,
       w.products
FROM region_windows AS w
LEFT JOIN regions FOR SYSTEM_TIME AS OF w.rowtime AS r ON w.region_id = r.region_id
WHERE w.subscribers >= ${min_subscribers};
