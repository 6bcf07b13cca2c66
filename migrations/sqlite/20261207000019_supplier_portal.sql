-- The supplier portal (API.md "Suppliers — sources as businesses"): a source's people,
-- invited by an operator (a one-time link sets the password), and their sessions, which
-- belong to one source. Tables of their own, apart from the partner portal's, so that a
-- session of one portal can never pass for the other.
CREATE TABLE supplier_users (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id         BIGINT NOT NULL REFERENCES sources (id),
    email             TEXT NOT NULL UNIQUE,
    password_hash     TEXT,
    invite_hash       TEXT UNIQUE,
    invite_expires_at BIGINT,
    created_at        BIGINT NOT NULL,
    accepted_at       BIGINT,
    last_login_at     BIGINT
);
CREATE INDEX supplier_users_source ON supplier_users (source_id);

CREATE TABLE supplier_sessions (
    id_hash      TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES supplier_users (id),
    source_id    BIGINT NOT NULL REFERENCES sources (id),
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX supplier_sessions_user ON supplier_sessions (user_id);

-- A supplier's leads newest first, and its days' counts, without reading other sources'.
CREATE INDEX leads_source_received ON leads (source_id, received_at);
