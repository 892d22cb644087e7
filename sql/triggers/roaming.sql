-- Every signaling event with whether its subscriber is an inbound roamer (docs/triggers.md, roam_in): an IMSI PLMN
-- (first 5 digits) outside the home PLMNs, or a home-PLMN number whose 7-digit prefix belongs to another province
-- (number ranges joined as of the event's time). Everyone else is a home subscriber (roam_out). Both roaming kinds
-- read this one view, so every event is joined with the number ranges once; the event travels packed in one ROW
-- and the flag is one expression over both sides of the join, so that the planner neither pushes a reader's
-- columns nor its filter into the join and gives each kind a join of its own (as in sql/shared/signaling_on_time.sql).
CREATE TEMPORARY VIEW roaming_events AS
SELECT s.e.msisdn AS msisdn, s.e.imsi AS imsi, s.e.ts AS ts, s.e.vlr_plmn AS vlr_plmn, s.rowtime,
       SUBSTRING(s.e.imsi FROM 1 FOR 5) AS plmn, n.province AS number_province,
       COALESCE(SUBSTRING(s.e.imsi FROM 1 FOR 5) NOT IN (${home_plmns}) OR n.province <> ${home_province}, FALSE)
         AS roamer
FROM (
  SELECT SUBSTRING(msisdn FROM 1 FOR 7) AS prefix, rowtime,
         CAST(ROW(msisdn, imsi, ts, vlr_plmn) AS ROW<msisdn STRING, imsi STRING, ts BIGINT, vlr_plmn STRING>) AS e
  FROM signaling_unique
) AS s
LEFT JOIN number_ranges FOR SYSTEM_TIME AS OF s.rowtime AS n ON s.prefix = n.prefix;
