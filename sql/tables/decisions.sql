-- Decisions (schemas/decisions.schema.json): every (trigger, matching campaign) with its result and reason.
CREATE TABLE decisions (
  record STRING
) WITH (
  ${connector}
);
