-- The benchmark baseline's output: raw lines copied unchanged.
CREATE TABLE passthrough_out (
  line STRING
) WITH (
  ${connector}
);
