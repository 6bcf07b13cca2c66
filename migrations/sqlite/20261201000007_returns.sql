-- Returns: a partner asks to give a delivered lead back (within the return window, with a
-- reason); an operator approves or declines it with a remark. One return per lead and
-- partner: a declined one is final.
CREATE TABLE returns (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id     BIGINT NOT NULL REFERENCES leads (id),
    partner_id  BIGINT NOT NULL REFERENCES partners (id),
    delivery_id BIGINT NOT NULL REFERENCES deliveries (id),
    reason      TEXT NOT NULL,
    note        TEXT,
    status      TEXT NOT NULL DEFAULT 'pending',
    remark      TEXT,
    decided_by  TEXT,
    created_at  BIGINT NOT NULL,
    decided_at  BIGINT
);
CREATE UNIQUE INDEX returns_lead_partner ON returns (lead_id, partner_id);
CREATE INDEX returns_status ON returns (status, id);
CREATE INDEX returns_partner ON returns (partner_id, id);
