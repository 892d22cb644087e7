-- roam_in: an inbound roamer's first signaling event, or the first after a silence (docs/triggers.md; who is a
-- roamer: sql/triggers/roaming.sql). Only the roamer's own events count for the silence; country and operator
-- come from the PLMN table, by the IMSI's 6-digit PLMN first, then its 5-digit one.
CREATE TEMPORARY VIEW roam_in_events AS
SELECT msisdn, imsi, ts, rowtime, plmn, CASE WHEN plmn IN (${home_plmns}) THEN number_province END AS province
FROM roaming_events
WHERE roamer;

CREATE TEMPORARY VIEW roam_in_arrivals AS
SELECT *
FROM (
  SELECT *, LAG(ts) OVER (PARTITION BY msisdn ORDER BY rowtime) AS previous_ts
  FROM roam_in_events
)
WHERE previous_ts IS NULL OR ts - previous_ts >= ${roam_in_gap_ms};

CREATE TEMPORARY VIEW roam_in_found AS
SELECT a.msisdn, a.ts,
       JSON_OBJECT('plmn' VALUE a.plmn, 'province' VALUE a.province,
                   'country' VALUE CASE WHEN p6.plmn IS NOT NULL THEN p6.country ELSE p5.country END,
                   'operator' VALUE CASE WHEN p6.plmn IS NOT NULL THEN p6.operator ELSE p5.operator END) AS context
FROM roam_in_arrivals AS a
LEFT JOIN plmn FOR SYSTEM_TIME AS OF a.rowtime AS p6 ON SUBSTRING(a.imsi FROM 1 FOR 6) = p6.plmn
LEFT JOIN plmn FOR SYSTEM_TIME AS OF a.rowtime AS p5 ON a.plmn = p5.plmn;
