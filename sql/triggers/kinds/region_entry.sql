-- region_entry: an entry into a watched region (docs/triggers.md).
CREATE TEMPORARY VIEW region_entry_found AS
SELECT msisdn, ts, JSON_OBJECT('region_id' VALUE region_id, 'region_kind' VALUE region_kind) AS context
FROM region_entries
WHERE watched;
