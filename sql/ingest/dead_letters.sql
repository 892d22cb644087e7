-- Everything else goes to the DLQ with its reason and the original line, so nothing is lost.
INSERT INTO dlq
SELECT 'signaling', SPLIT_INDEX(problem, ':', 0), SUBSTRING(problem FROM POSITION(':' IN problem) + 1),
       event_id, ts, line
FROM signaling_checked
WHERE problem IS NOT NULL
UNION ALL
SELECT 'xdr', SPLIT_INDEX(problem, ':', 0), SUBSTRING(problem FROM POSITION(':' IN problem) + 1),
       event_id, ts, line
FROM xdr_checked
WHERE problem IS NOT NULL;
