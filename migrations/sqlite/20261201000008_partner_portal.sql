-- The partner portal: what each attempt sent (the body exactly as sent, for the partner's
-- own lead page), partner users (invited by an operator, a one-time link sets the
-- password) and their sessions, which belong to one partner.
ALTER TABLE delivery_attempts ADD COLUMN request_body TEXT;

CREATE TABLE partner_users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    partner_id        BIGINT NOT NULL REFERENCES partners (id),
    email             TEXT NOT NULL UNIQUE,
    password_hash     TEXT,
    invite_hash       TEXT UNIQUE,
    invite_expires_at BIGINT,
    created_at        BIGINT NOT NULL,
    accepted_at       BIGINT,
    last_login_at     BIGINT
);
CREATE INDEX partner_users_partner ON partner_users (partner_id);

CREATE TABLE partner_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES partner_users (id),
    partner_id   BIGINT NOT NULL REFERENCES partners (id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX partner_sessions_user ON partner_sessions (user_id);

-- A rotated signing secret keeps signing beside the new one until `previous_secret_until`
-- (24 hours), so a partner can switch its verifier without losing a delivery.
ALTER TABLE partners ADD COLUMN previous_signing_secret TEXT;
ALTER TABLE partners ADD COLUMN previous_secret_until BIGINT;
