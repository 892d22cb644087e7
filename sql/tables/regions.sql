-- Reference: micro-regions (schemas/reference/regions.schema.json), versioned like cells.
CREATE TABLE regions (
  region_id STRING,
  name STRING,
  kind STRING,
  watched BOOLEAN,
  lat DOUBLE,
  lon DOUBLE${time_attributes},
  PRIMARY KEY (region_id) NOT ENFORCED
) WITH (
  ${connector}
);
