-- The decision operators' output rows (topic, record, reason, detail) go to their topics.
INSERT INTO leads SELECT record FROM decided WHERE topic = 'leads';

INSERT INTO decisions SELECT record FROM decided WHERE topic = 'decisions';

INSERT INTO dlq
SELECT source, reason, detail, CAST(NULL AS STRING), CAST(NULL AS BIGINT), record
FROM decided WHERE topic = 'dlq';
