-- The effect operators' output rows (topic, record, reason, detail) go to their topics. An uplift row's detail is
-- its group and a guardrail row's its campaign: the Kafka key of the record when streaming (${keyed_columns}).
INSERT INTO outcomes_out SELECT record FROM effects WHERE topic = 'outcomes';

INSERT INTO uplift_out SELECT ${keyed_columns} FROM effects WHERE topic = 'uplift';

INSERT INTO guardrail_out SELECT ${keyed_columns} FROM effects WHERE topic = 'guardrail';

INSERT INTO dlq
SELECT source, reason, detail, CAST(NULL AS STRING), CAST(NULL AS BIGINT), record
FROM effects WHERE topic = 'dlq';
