-- A topic written as whole lines with a Kafka key (uplift, keyed by its group): every record of one key lands in
-- one partition, in the order written, so a reader holding the latest version per key never sees an older one
-- after a newer. The key is not part of the line.
CREATE TABLE ${table} (
  record_key STRING,
  record STRING
) WITH (
  ${connector}
);
