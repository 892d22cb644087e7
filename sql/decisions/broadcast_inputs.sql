-- What every decision subtask keeps whole (broadcast): campaign definitions, the regions and handsets the
-- rules look up (region kinds for tags and the lead's region name, handset tier/brand/model), and from the
-- effect job its uplift records, whose variant counts adaptive selection draws from (the others are passed
-- over), and the campaigns its guardrail paused. Tagged by input so that one broadcast stream carries them all.
CREATE TEMPORARY VIEW broadcast_inputs AS
SELECT 'campaign' AS input, line FROM campaigns_in
UNION ALL
SELECT 'region' AS input, line FROM regions_in
UNION ALL
SELECT 'handset' AS input, line FROM handsets_in
UNION ALL
SELECT 'counts' AS input, line FROM uplift_in
UNION ALL
SELECT 'guardrail' AS input, line FROM guardrail_in;
