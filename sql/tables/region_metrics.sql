-- Micro-region G3 metrics per event-time window (schemas/region-metrics.schema.json); nulls are left out of the
-- JSON records. products is a multiset of product ids, written as a JSON object {product: subscribers}.
CREATE TABLE region_metrics (
  region_id STRING,
  region_name STRING,
  region_kind STRING,
  lat DOUBLE,
  lon DOUBLE,
  window_start BIGINT,
  window_end BIGINT,
  subscribers BIGINT,
  g3_subscribers BIGINT,
  g3_capable BIGINT,
  g3_coverage DOUBLE,
  opportunities BIGINT,
  g3_data_share DOUBLE,
  products MULTISET<STRING>
) WITH (
  ${connector}
);
