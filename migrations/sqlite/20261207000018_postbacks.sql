-- Postbacks to suppliers' trackers (API.md "Suppliers"): one per lead and event, fed from
-- the leads' history and the conversions, sent by the notice runner with retries.
ALTER TABLE sources ADD COLUMN signing_secret TEXT;
CREATE TABLE postbacks (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id       BIGINT NOT NULL REFERENCES sources (id),
    lead_id         BIGINT NOT NULL REFERENCES leads (id),
    event           TEXT NOT NULL,
    lead_status     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    url             TEXT,
    last_status     BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE UNIQUE INDEX postbacks_lead_event ON postbacks (lead_id, event);
CREATE INDEX postbacks_due ON postbacks (status, next_attempt_at);
CREATE INDEX postbacks_source ON postbacks (source_id, id);
-- How far the leads' history and the conversions have been read for postbacks.
CREATE TABLE postback_feed (
    id                 BIGINT PRIMARY KEY,
    lead_events_after  BIGINT NOT NULL,
    conversions_after  BIGINT NOT NULL
);
INSERT INTO postback_feed (id, lead_events_after, conversions_after)
SELECT 1, (SELECT COALESCE(MAX(id), 0) FROM lead_events), (SELECT COALESCE(MAX(id), 0) FROM conversions);
