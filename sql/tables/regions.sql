-- Reference: micro-regions (schemas/reference/regions.schema.json), versioned like cells.
CREATE TABLE regions (
  region_id STRING,
  name STRING,
  kind STRING,
  watched BOOLEAN,
  lat DOUBLE,
  lon DOUBLE,
  valid_from AS TO_TIMESTAMP_LTZ(0, 3),
  WATERMARK FOR valid_from AS valid_from,
  PRIMARY KEY (region_id) NOT ENFORCED
) WITH (
  ${connector}
);
