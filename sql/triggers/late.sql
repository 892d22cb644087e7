-- Late signaling events go to the DLQ (reason `late`), rebuilt as JSON since the raw line is gone by now.
INSERT INTO dlq
SELECT 'signaling', 'late', 'behind watermark by more than the out-of-orderness bound', event_id, ts,
       JSON_OBJECT('event_id' VALUE event_id, 'event_type' VALUE event_type, 'ts' VALUE ts,
                   'msisdn' VALUE msisdn, 'imsi' VALUE imsi, 'cell_id' VALUE cell_id ABSENT ON NULL)
FROM signaling_valid
WHERE rowtime < CURRENT_WATERMARK(rowtime);
