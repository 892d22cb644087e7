-- Reference: TAC catalogue (schemas/reference/handsets.schema.json), versioned like cells.
CREATE TABLE handsets (
  tac STRING,
  brand STRING,
  model STRING,
  tier STRING,
  g3_capable BOOLEAN${time_attributes},
  PRIMARY KEY (tac) NOT ENFORCED
) WITH (
  ${connector}
);
