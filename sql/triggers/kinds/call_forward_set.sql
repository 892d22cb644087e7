-- call_forward_set: the subscriber sets call forwarding.
CREATE TEMPORARY VIEW call_forward_set_found AS
SELECT msisdn, ts, JSON_OBJECT('forward_to' VALUE forward_to) AS context
FROM signaling_unique
WHERE event_type = 'call_forward_set';
