-- The postback feed reads the leads' history and the conversions in the order their
-- transactions became visible, not in the order of their ids: on PostgreSQL an id is drawn
-- when a row is written and its transaction may commit after a later id's, so a cursor
-- over ids alone could pass a row before it is visible and never come back for it. Each
-- row records the id of the transaction that wrote it; the feed reads only rows of
-- transactions older than every one still running, in (transaction, id) order. Rows
-- written before this migration read as transaction 0, in id order.
ALTER TABLE lead_events ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE lead_events ALTER COLUMN xid SET DEFAULT txid_current();
CREATE INDEX lead_events_xid ON lead_events (xid, id);
ALTER TABLE conversions ADD COLUMN xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversions ALTER COLUMN xid SET DEFAULT txid_current();
CREATE INDEX conversions_xid ON conversions (xid, id);
ALTER TABLE postback_feed ADD COLUMN lead_events_xid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE postback_feed ADD COLUMN conversions_xid BIGINT NOT NULL DEFAULT 0;
