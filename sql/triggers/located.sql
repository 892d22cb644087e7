-- Location events: signaling on a known cell, with its micro-region (reference data joined in Flink), the
-- subscriber's previous location event, and the previous event of the same subscriber in the same region.
CREATE TEMPORARY VIEW located AS
SELECT s.msisdn, s.ts, s.rowtime, c.region_id, COALESCE(r.watched, FALSE) AS watched, r.kind AS region_kind
FROM signaling_unique AS s
JOIN cells FOR SYSTEM_TIME AS OF s.rowtime AS c ON s.cell_id = c.cell_id
LEFT JOIN regions FOR SYSTEM_TIME AS OF s.rowtime AS r ON c.region_id = r.region_id;

-- Entries into any region (docs/triggers.md, region_entry rule), watched or not: the previous location
-- event is outside the region and the last one inside is at least the minimum outside time ago.
CREATE TEMPORARY VIEW region_entries AS
SELECT msisdn, ts, rowtime, region_id, region_kind, watched
FROM (
  SELECT *, LAG(ts) OVER (
    PARTITION BY msisdn, region_id ORDER BY rowtime) AS previous_in_region_ts
  FROM (
    SELECT *, LAG(region_id) OVER w AS previous_region, LAG(ts) OVER w AS previous_ts
    FROM located
    WINDOW w AS (PARTITION BY msisdn ORDER BY rowtime)
  )
  WHERE region_id IS NOT NULL
)
WHERE previous_ts IS NOT NULL
  AND (previous_region IS NULL OR previous_region <> region_id)
  AND (previous_in_region_ts IS NULL OR ts - previous_in_region_ts >= ${min_outside_ms});
