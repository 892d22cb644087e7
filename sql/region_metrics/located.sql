-- Contributions on a cell of a micro-region: cells joined as of the event's time (like sql/triggers/located.sql).
-- Events on an unknown cell, on a cell outside every region, or with no cell (abroad) place nobody anywhere.
-- (LEFT JOIN + a COALESCE filter: Flink refuses a filter pushed into the versioned side of a temporal join,
-- which an INNER JOIN with `region_id IS NOT NULL` would get.)
CREATE TEMPORARY VIEW region_located AS
SELECT e.msisdn, e.rowtime, c.region_id, e.xdr_bytes, e.g3_bytes, e.imei_key
FROM region_contributions AS e
LEFT JOIN cells FOR SYSTEM_TIME AS OF e.rowtime AS c ON e.cell_id = c.cell_id
WHERE COALESCE(c.region_id, '') <> '';
