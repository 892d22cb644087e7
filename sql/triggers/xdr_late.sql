-- Late xDRs go to the DLQ (reason `late`), rebuilt as JSON since the raw line is gone by now.
INSERT INTO dlq
SELECT 'xdr', 'late', 'behind watermark by more than the out-of-orderness bound', event_id, ts,
       JSON_OBJECT('event_id' VALUE event_id, 'ts' VALUE ts, 'msisdn' VALUE msisdn, 'imsi' VALUE imsi,
                   'cell_id' VALUE cell_id, 'bytes_up' VALUE bytes_up, 'bytes_down' VALUE bytes_down
                   ABSENT ON NULL)
FROM xdr_valid
WHERE rowtime < CURRENT_WATERMARK(rowtime);
