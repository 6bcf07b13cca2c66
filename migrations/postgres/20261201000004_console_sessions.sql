-- The operator's console: server-side sessions (the cookie carries only a signed id; the
-- row holds its hash), failed logins for throttling, and each operator's timezone.
CREATE TABLE admin_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX admin_sessions_user ON admin_sessions (user_id);

CREATE TABLE login_failures (
    id     BIGSERIAL PRIMARY KEY,
    email  TEXT NOT NULL,
    client TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX login_failures_email ON login_failures (email, at);
CREATE INDEX login_failures_client ON login_failures (client, at);

ALTER TABLE admin_users ADD COLUMN timezone TEXT NOT NULL DEFAULT 'UTC';

-- A partner's leads and deliveries, newest first (the console's partner filter, partner
-- pages and health figures). They replace the (partner_id) and (partner_id, status)
-- indexes: an id never changes, so these cost nothing when a delivery's status does.
DROP INDEX leads_partner;
CREATE INDEX leads_partner_id ON leads (partner_id, id);
DROP INDEX deliveries_partner;
CREATE INDEX deliveries_partner_id ON deliveries (partner_id, id);
