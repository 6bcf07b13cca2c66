-- Partner replies (API.md "Partner replies"): how a partner's answers are read, what a
-- delivery's answer said (the partner's own lead id, an autologin URL, the reason), and the
-- people a partner already has, kept only as keyed hashes.
ALTER TABLE partners ADD COLUMN response TEXT;
-- Whether the partner has any known contact: routing looks them up only for those that do.
ALTER TABLE partners ADD COLUMN knows_contacts SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN partner_lead_id TEXT;
ALTER TABLE deliveries ADD COLUMN redirect_url TEXT;
ALTER TABLE deliveries ADD COLUMN reason TEXT;
CREATE INDEX deliveries_partner_lead_id ON deliveries (partner_lead_id)
    WHERE partner_lead_id IS NOT NULL;
CREATE TABLE known_contacts (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    hash       TEXT NOT NULL,
    learned_at BIGINT NOT NULL,
    PRIMARY KEY (partner_id, hash)
);
CREATE INDEX known_contacts_hash ON known_contacts (hash);
-- Seconds a source's inbound request waits for its lead's first outcome (autologin).
ALTER TABLE sources ADD COLUMN wait_for_delivery BIGINT NOT NULL DEFAULT 0;
-- Duplicate answers are counted apart in the rolled-up figures.
ALTER TABLE figures ADD COLUMN duplicates BIGINT NOT NULL DEFAULT 0;
