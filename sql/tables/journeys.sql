-- Trial journey definitions (schemas/journeys.schema.json), versioned by trial product for the temporal join of
-- trial starts; `definition` is the journey's JSON, validated by the journeys job (a bad one dead-letters the trial).
CREATE TABLE journeys (
  trial_product STRING,
  definition STRING${time_attributes},
  PRIMARY KEY (trial_product) NOT ENFORCED
) WITH (
  ${connector}
);
