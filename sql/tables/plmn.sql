-- Reference: the global PLMN table, MCC+MNC -> country and operator (schemas/reference/plmn.schema.json),
-- versioned like cells. 5-digit (2-digit MNC) and 6-digit (3-digit MNC) PLMNs are distinct rows.
CREATE TABLE plmn (
  plmn STRING,
  mcc STRING,
  mnc STRING,
  country STRING,
  operator STRING${time_attributes},
  PRIMARY KEY (plmn) NOT ENFORCED
) WITH (
  ${connector}
);
