-- Leads (schemas/leads.schema.json), rendered as JSON by the decision job.
CREATE TABLE leads (
  record STRING
) WITH (
  ${connector}
);
