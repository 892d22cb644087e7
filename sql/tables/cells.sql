-- Reference: cells (schemas/reference/cells.schema.json) as a versioned table, so event-time temporal joins
-- keep the stream's time attribute. One version valid from the epoch.
CREATE TABLE cells (
  cell_id BIGINT,
  lac INT,
  lat DOUBLE,
  lon DOUBLE,
  rat STRING,
  region_id STRING,
  valid_from AS TO_TIMESTAMP_LTZ(0, 3),
  WATERMARK FOR valid_from AS valid_from,
  PRIMARY KEY (cell_id) NOT ENFORCED
) WITH (
  ${connector}
);
