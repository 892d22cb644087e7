-- Profiles as JSON lines (schemas/reference/profiles.schema.json, products a JSON array) for the decision job,
-- which keeps each subscriber's latest one in state: the profiles topic from its start (every profile and every
-- change, e.g. a consent revoked), or in a replay the profiles CSV followed by INPUT/profiles.jsonl.
CREATE TABLE profiles_in (
  line STRING,
  msisdn AS JSON_VALUE(line, '$.msisdn')
) WITH (
  ${connector}
);
