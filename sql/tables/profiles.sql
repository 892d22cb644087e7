-- Reference: CRM/BOSS subscriber profiles (schemas/reference/profiles.schema.json), versioned like cells.
-- Columns in the CSV's order; `products` is the ';'-joined list, kept as a string.
CREATE TABLE profiles (
  msisdn STRING,
  imsi STRING,
  brand STRING,
  plan STRING,
  data_quota_mb BIGINT,
  data_used_mb BIGINT,
  arpu_band STRING,
  age_band STRING,
  consent_marketing BOOLEAN,
  consent_location BOOLEAN,
  do_not_disturb BOOLEAN,
  products STRING,
  valid_from AS TO_TIMESTAMP_LTZ(0, 3),
  WATERMARK FOR valid_from AS valid_from,
  PRIMARY KEY (msisdn) NOT ENFORCED
) WITH (
  ${connector}
);
