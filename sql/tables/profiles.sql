-- Reference: CRM/BOSS subscriber profiles (schemas/reference/profiles.schema.json), versioned like cells.
-- Columns in the CSV's order; `products` a list (a JSON array on the topic, ';'-separated in the CSV).
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
  products ARRAY<STRING>${time_attributes},
  PRIMARY KEY (msisdn) NOT ENFORCED
) WITH (
  ${connector}
);
