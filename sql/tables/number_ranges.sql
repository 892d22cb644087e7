-- Reference: 7-digit msisdn prefixes -> province (schemas/reference/number_ranges.schema.json).
CREATE TABLE number_ranges (
  prefix STRING,
  province STRING,
  valid_from AS TO_TIMESTAMP_LTZ(0, 3),
  WATERMARK FOR valid_from AS valid_from,
  PRIMARY KEY (prefix) NOT ENFORCED
) WITH (
  ${connector}
);
