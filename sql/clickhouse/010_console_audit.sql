-- The console's change log (docs/console.md, topic `console-audit`): who changed which campaign, journey or user,
-- when, the fields changed and the whole definition before and after. Kept without TTL: an audit trail outlives
-- the analytics data. ReplacingMergeTree on the record's id: a record delivered twice is one row.
CREATE TABLE IF NOT EXISTS ${db}.console_audit
(
    audit_id  String,
    ts        DateTime,
    ts_ms     Int64,
    user      String,
    role      LowCardinality(String),
    action    LowCardinality(String),           -- publish, pause, resume, add_user, remove_user
    kind      LowCardinality(String),           -- campaigns, journeys, users
    target    String,                           -- campaign id, journey trial product, user name
    changes   Array(String),                    -- 'field: old -> new', one per field changed
    before    String,                           -- the definition before, JSON ('' when new)
    after     String,                           -- the definition after, JSON ('' when removed)
    note      String,
    loaded_at DateTime DEFAULT now()
)
ENGINE = ReplacingMergeTree
ORDER BY (kind, target, ts_ms, audit_id);
