-- Reference rows as JSON lines (schemas/reference/${reference}.schema.json) for a Python operator that keeps them in
-- broadcast state (the decision job's regions and handsets): the topic from its start, or the CSV in a replay.
CREATE TABLE ${reference}_in (
  line STRING
) WITH (
  ${connector}
);
