-- The journeys operator's output rows (topic, source, reason, detail, record) go to their topics.
INSERT INTO journey_events_out SELECT record FROM journey_events WHERE topic = 'journey_events';

INSERT INTO dlq
SELECT source, reason, detail, CAST(NULL AS STRING), CAST(NULL AS BIGINT), record
FROM journey_events WHERE topic = 'dlq';
