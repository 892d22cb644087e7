-- Who was where: the contributions on a cell of a micro-region (sql/shared/contributions.sql), with the bytes of
-- xDR sessions and those on G3. Events on an unknown cell, on a cell outside every region, or with no cell
-- (abroad) place nobody anywhere. (A COALESCE filter: on region_id IS NOT NULL Flink would turn the join into an
-- INNER one, a join apart from the one behaviour shares, and refuse the filter pushed into its versioned side.)
CREATE TEMPORARY VIEW region_located AS
SELECT msisdn, rowtime, region_id, bytes_up + bytes_down AS xdr_bytes, g3_bytes, imei_key
FROM located_contributions
WHERE COALESCE(region_id, '') <> '';
