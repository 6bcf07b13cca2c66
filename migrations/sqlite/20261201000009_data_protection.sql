-- Data protection and the audit trail.

-- Consent evidence: each distinct text once, by its SHA-256; a lead keeps the rest
-- (`{"text_sha256", "version", "given_at", "ip", "user_agent", "page_url"}`).
CREATE TABLE consent_texts (
    sha256     TEXT PRIMARY KEY,
    text       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
ALTER TABLE leads ADD COLUMN consent TEXT;

-- An erased lead keeps keyed hashes (HMAC with the server's contact key) of its e-mail and
-- phone, so that a new lead with them is still found as a duplicate.
ALTER TABLE leads ADD COLUMN email_hash TEXT;
ALTER TABLE leads ADD COLUMN phone_hash TEXT;
CREATE INDEX leads_niche_email_hash ON leads (niche, email_hash, received_at)
    WHERE email_hash IS NOT NULL;
CREATE INDEX leads_niche_phone_hash ON leads (niche, phone_hash, received_at)
    WHERE phone_hash IS NOT NULL;
-- Where a timed job got to (the retention walk: leads received before it are erased).
CREATE TABLE job_state (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- Keys the server made for itself (the contact hash key), sealed like credentials when
-- LEADROUTER_SECRET_KEY is set.
CREATE TABLE server_keys (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL UNIQUE,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Where a partner wants to be told that leads it received were erased.
ALTER TABLE partners ADD COLUMN erasure_webhook_url TEXT;

-- Signed `lead.erased` requests to partners' erasure webhooks, written in the erasure's
-- transaction and sent (with retries) by the notice loop.
CREATE TABLE erasure_notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id      BIGINT NOT NULL REFERENCES partners (id),
    body            TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    last_status     BIGINT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX erasure_notices_due ON erasure_notices (status, next_attempt_at);

-- Who changed what: one entry per change, written in the change's transaction.
-- `changes` is `{"field": {"before", "after"}}` (a secret: `{"changed": true}`); `before`
-- holds a partner's settings (never a secret) as they were, for revert.
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id   BIGINT,
    actor_name TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  BIGINT,
    changes    TEXT NOT NULL DEFAULT '{}',
    before     TEXT
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id, id);
