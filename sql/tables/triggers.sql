-- Triggers (schemas/triggers.schema.json); each record is built with JSON_OBJECT so every kind can carry
-- its own context object.
CREATE TABLE triggers (
  record STRING
) WITH (
  ${connector}
);
