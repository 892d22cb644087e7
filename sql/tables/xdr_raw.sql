-- Raw xDR lines exactly as the DPI probes sent them.
CREATE TABLE xdr_raw (
  line STRING
) WITH (
  ${connector}
);
