-- Reference: 7-digit msisdn prefixes -> province (schemas/reference/number_ranges.schema.json).
CREATE TABLE number_ranges (
  prefix STRING,
  province STRING${time_attributes},
  PRIMARY KEY (prefix) NOT ENFORCED
) WITH (
  ${connector}
);
