-- dial_114: an MO call to the directory-enquiry number (promote 12580).
CREATE TEMPORARY VIEW dial_114_found AS
SELECT msisdn, ts, JSON_OBJECT('called_number' VALUE called_number) AS context
FROM signaling_unique
WHERE event_type = 'mo_call' AND called_number = '${directory_number}';
