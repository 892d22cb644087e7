-- Campaign definitions (schemas/campaigns.schema.json), one JSON line each; the job validates them again.
CREATE TABLE campaigns_in (
  line STRING
) WITH (
  ${connector}
);
