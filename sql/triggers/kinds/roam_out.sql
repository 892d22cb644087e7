-- roam_out: a home subscriber's first signaling event on a foreign network after one on a home network
-- (docs/triggers.md). A home subscriber is anyone who is not an inbound roamer (sql/triggers/roaming.sql); only its
-- own events count, and its first event never fires. Country and operator of the visited network come from the
-- PLMN table, by vlr_plmn, then by its first 5 digits.
CREATE TEMPORARY VIEW roam_out_events AS
SELECT msisdn, ts, rowtime, vlr_plmn, vlr_plmn IS NOT NULL AND vlr_plmn NOT IN (${home_plmns}) AS abroad
FROM roaming_events
WHERE NOT roamer;

CREATE TEMPORARY VIEW roam_out_departures AS
SELECT *
FROM (
  SELECT *, LAG(abroad) OVER (PARTITION BY msisdn ORDER BY rowtime) AS was_abroad
  FROM roam_out_events
)
WHERE abroad AND NOT was_abroad;

CREATE TEMPORARY VIEW roam_out_found AS
SELECT d.msisdn, d.ts,
       JSON_OBJECT('vlr_plmn' VALUE d.vlr_plmn,
                   'country' VALUE CASE WHEN p1.plmn IS NOT NULL THEN p1.country ELSE p5.country END,
                   'operator' VALUE CASE WHEN p1.plmn IS NOT NULL THEN p1.operator ELSE p5.operator END) AS context
FROM roam_out_departures AS d
LEFT JOIN plmn FOR SYSTEM_TIME AS OF d.rowtime AS p1 ON d.vlr_plmn = p1.plmn
LEFT JOIN plmn FOR SYSTEM_TIME AS OF d.rowtime AS p5 ON SUBSTRING(d.vlr_plmn FROM 1 FOR 5) = p5.plmn;
