-- Reference: cells (schemas/reference/cells.schema.json) as a versioned table, so event-time temporal joins
-- keep the stream's time attribute: the reference-cells topic (streaming) or the CSV (replay). The job adds
-- valid_from and the watermark (touchpoint.flink.pipeline.Pipeline.create_reference): the latest row of a cell
-- applies to every event not yet joined.
CREATE TABLE cells (
  cell_id BIGINT,
  lac INT,
  lat DOUBLE,
  lon DOUBLE,
  rat STRING,
  region_id STRING${time_attributes},
  PRIMARY KEY (cell_id) NOT ENFORCED
) WITH (
  ${connector}
);
