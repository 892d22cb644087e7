-- What every decision subtask keeps whole (broadcast): campaign definitions, and the regions and handsets the
-- rules look up (region kinds for tags and the lead's region name, handset tier/brand/model). Tagged by input
-- so that one broadcast stream carries them all.
CREATE TEMPORARY VIEW broadcast_inputs AS
SELECT 'campaign' AS input, line FROM campaigns_in
UNION ALL
SELECT 'region' AS input, line FROM regions_in
UNION ALL
SELECT 'handset' AS input, line FROM handsets_in;
