-- The one place in ClickHouse where a subscriber's number sits beside its pseudonym (docs/privacy.md). Every
-- other table holds the keyed pseudonym of MSISDN, IMSI and IMEI only. The call centre, or whoever must act on
-- one subscriber, reads this table; analysts and dashboards do not need it. It lives in a database of its own
-- (privacy.lookup_database) so access to it is granted on its own. It holds only subscribers who got a lead:
-- those the outbound systems contact anyway. ReplacingMergeTree: the newest row of a pseudonym wins.
CREATE DATABASE IF NOT EXISTS ${lookup_db};
CREATE TABLE IF NOT EXISTS ${lookup_db}.subscriber_lookup
(
    pseudonym   String,
    msisdn      String,
    updated     DateTime                 -- the latest lead that needed it
)
ENGINE = ReplacingMergeTree(updated)
PARTITION BY toYYYYMM(updated)
ORDER BY pseudonym
${ttl(updated)};
