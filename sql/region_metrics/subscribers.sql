-- Each present subscriber's flags, from the reference data as of the window's end (temporal joins):
-- g3_holder: the profile's products has an item starting with `g3_`; no profile (inbound roamers)
--   means no products and not a G3 subscriber, but the subscriber still counts as present;
-- g3_capable: the handset of the latest IMEI seen in the window in the region (TAC = its first 8 digits) is
--   G3-capable in the handsets reference; no IMEI in the window, or a TAC not in the catalogue: not capable.
-- products: the distinct, non-empty product ids held (empty when no profile).
CREATE TEMPORARY VIEW region_subscribers AS
SELECT p.rowtime, p.region_id, p.msisdn, p.xdr_bytes, p.g3_bytes,
       COALESCE(h.g3_capable, FALSE) AS g3_capable,
       COALESCE(REGEXP(ARRAY_JOIN(pr.products, ';'), '(^|;)g3_'), FALSE) AS g3_holder,
       -- [''] rather than [] without products: windows.sql unnests it, and the subscriber must stay present
       ARRAY_DISTINCT(SPLIT(COALESCE(ARRAY_JOIN(pr.products, ';'), ''), ';')) AS products
FROM region_presence AS p
LEFT JOIN handsets FOR SYSTEM_TIME AS OF p.rowtime AS h ON SUBSTRING(p.imei_key FROM 20 FOR 8) = h.tac
LEFT JOIN profiles FOR SYSTEM_TIME AS OF p.rowtime AS pr ON p.msisdn = pr.msisdn;
