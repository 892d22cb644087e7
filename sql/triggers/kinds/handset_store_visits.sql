-- handset_store_visits: the visit (an entry into any handset_store region) that makes the number of visits
-- within the trailing window (inclusive at its edge) exactly the configured count (docs/triggers.md).
-- ARRAY_AGG over the same window gives the counted visits' region_ids, oldest first (visits leaving the
-- window are retracted oldest first, and retraction removes the first equal element).
CREATE TEMPORARY VIEW handset_store_visits_found AS
SELECT msisdn, ts, JSON_OBJECT('visits' VALUE visits, 'region_ids' VALUE region_ids) AS context
FROM (
  SELECT msisdn, ts, COUNT(*) OVER w AS visits, ARRAY_AGG(region_id) OVER w AS region_ids
  FROM region_entries
  WHERE region_kind = 'handset_store'
  WINDOW w AS (PARTITION BY msisdn ORDER BY rowtime
               RANGE BETWEEN INTERVAL '${handset_store_days}' DAY(3) PRECEDING AND CURRENT ROW)
)
WHERE visits = ${handset_store_visits};
