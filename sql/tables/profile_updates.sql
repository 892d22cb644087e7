-- Profile changes (schemas/reference/profiles.schema.json, products as a JSON array), e.g. a new
-- do-not-disturb flag; they apply as soon as they are read.
CREATE TABLE profile_updates (
  line STRING,
  msisdn AS JSON_VALUE(line, '$.msisdn')
) WITH (
  ${connector}
);
