-- A topic written as whole lines rendered by a Python operator (outcomes, uplift).
CREATE TABLE ${table} (
  record STRING
) WITH (
  ${connector}
);
