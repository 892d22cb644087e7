-- The effect operators' output rows (topic, record, reason, detail) go to their topics; an uplift row's detail is
-- its group, the Kafka key of the record when streaming (${uplift_columns}).
INSERT INTO outcomes_out SELECT record FROM effects WHERE topic = 'outcomes';

INSERT INTO uplift_out SELECT ${uplift_columns} FROM effects WHERE topic = 'uplift';

INSERT INTO dlq
SELECT source, reason, detail, CAST(NULL AS STRING), CAST(NULL AS BIGINT), record
FROM effects WHERE topic = 'dlq';
