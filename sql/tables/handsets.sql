-- Reference: TAC catalogue (schemas/reference/handsets.schema.json), versioned like cells.
CREATE TABLE handsets (
  tac STRING,
  brand STRING,
  model STRING,
  tier STRING,
  g3_capable BOOLEAN,
  valid_from AS TO_TIMESTAMP_LTZ(0, 3),
  WATERMARK FOR valid_from AS valid_from,
  PRIMARY KEY (tac) NOT ENFORCED
) WITH (
  ${connector}
);
