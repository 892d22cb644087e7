-- dwell: a stay in a watched region lasting at least the dwell time; once per stay (docs/triggers.md).
-- O is the location event before the stay, S its first event; SKIP TO LAST D lets D be the O of a next stay.
CREATE TEMPORARY VIEW dwell_found AS
SELECT msisdn, ts, JSON_OBJECT('region_id' VALUE region_id, 'region_kind' VALUE region_kind,
                               'stay_start' VALUE stay_start, 'dwell_minutes' VALUE ${dwell_minutes}) AS context
FROM located
MATCH_RECOGNIZE (
  PARTITION BY msisdn
  ORDER BY rowtime
  MEASURES D.ts AS ts, S.region_id AS region_id, S.region_kind AS region_kind, S.ts AS stay_start
  ONE ROW PER MATCH
  AFTER MATCH SKIP TO LAST D
  PATTERN (O S I* D)
  DEFINE
    S AS S.watched AND (O.region_id IS NULL OR S.region_id <> O.region_id),
    I AS I.region_id = S.region_id AND I.ts - S.ts < ${dwell_ms},
    D AS D.region_id = S.region_id AND D.ts - S.ts >= ${dwell_ms}
);
