-- A topic read as whole lines (leads, outcomes, orders): the effect job's Python operator parses each once.
CREATE TABLE ${table} (
  line STRING
) WITH (
  ${connector}
);
