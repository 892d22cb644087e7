-- Reference data for the dashboards, loaded from the reference CSVs by `touchpoint db load-reference [DIR]`
-- (each load replaces the table's contents: TRUNCATE, then INSERT).
CREATE TABLE IF NOT EXISTS ${db}.handsets
(
    tac        String,
    brand      String,
    model      String,
    tier       String,
    g3_capable UInt8
)
ENGINE = MergeTree
ORDER BY tac;

CREATE TABLE IF NOT EXISTS ${db}.regions
(
    region_id String,
    name      String,
    kind      String,
    watched   UInt8,
    lat       Float64,
    lon       Float64
)
ENGINE = MergeTree
ORDER BY region_id;
