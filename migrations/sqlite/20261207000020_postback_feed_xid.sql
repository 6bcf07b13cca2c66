-- The postback feed's cursor gains a transaction part (see the PostgreSQL migration of the
-- same name). SQLite writes one transaction at a time, so its rows become visible in id
-- order: the feed reads by id alone and the transaction part stays 0 (the columns are kept
-- so that both backends have the same tables; no index).
ALTER TABLE lead_events ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversions ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE postback_feed ADD COLUMN lead_events_xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE postback_feed ADD COLUMN conversions_xid BIGINT NOT NULL DEFAULT 0;
