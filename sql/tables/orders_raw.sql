-- Raw order lines exactly as BOSS/CRM sent them; parsed by ingest so a bad order reaches the DLQ.
CREATE TABLE orders_raw (
  line STRING
) WITH (
  ${connector}
);
