-- Every contribution with the micro-region of its cell: cells joined as of the event's time, like
-- sql/triggers/located.sql, but LEFT so that events on an unknown (or no) cell still count, with no region.
CREATE TEMPORARY VIEW behaviour_located AS
SELECT e.*, c.region_id
FROM behaviour_contributions AS e
LEFT JOIN cells FOR SYSTEM_TIME AS OF e.rowtime AS c ON e.cell_id = c.cell_id;
