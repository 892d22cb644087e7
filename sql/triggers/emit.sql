-- One trigger record per row of the view `${kind}_found` (msisdn, ts, context), with a deterministic id.
INSERT INTO triggers
SELECT JSON_OBJECT(
  'trigger_id' VALUE 't-' || SUBSTRING(MD5(msisdn || '|${kind}|' || CAST(ts AS STRING)) FROM 1 FOR 16),
  'msisdn' VALUE msisdn,
  'kind' VALUE '${kind}',
  'ts' VALUE ts,
  'detected_at' VALUE UNIX_TIMESTAMP() * 1000,
  'context' VALUE context
)
FROM ${kind}_found;
