-- Offer variants (docs/variants.md): the variant a treatment lead offers, and the uplift of each variant against
-- its campaign's control group (scope `variant`). Empty for leads and groups without one, so the tables keep
-- serving campaigns that have no variants. A migration applies once (it is recorded), so no IF NOT EXISTS: the
-- oldest supported server does not know it on ALTER.
ALTER TABLE ${db}.leads ADD COLUMN variant_id String DEFAULT '' AFTER reasons;
ALTER TABLE ${db}.uplift ADD COLUMN variant_id String DEFAULT '' AFTER day;
