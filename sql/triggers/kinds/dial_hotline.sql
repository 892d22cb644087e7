-- dial_hotline: an MO call to one of the operator's hotlines.
CREATE TEMPORARY VIEW dial_hotline_found AS
SELECT msisdn, ts, JSON_OBJECT('called_number' VALUE called_number) AS context
FROM signaling_unique
WHERE event_type = 'mo_call' AND called_number IN (${hotline_numbers});
