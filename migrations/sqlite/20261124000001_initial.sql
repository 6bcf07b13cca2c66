-- leadrouter schema, SQLite dialect. Keep in step with migrations/postgres.
-- Portable types only: BIGINT ids/integers/epoch-ms instants/cents, SMALLINT 0/1 booleans,
-- TEXT for dates (YYYY-MM-DD), JSON documents and identifiers.

CREATE TABLE markets (
    slug             TEXT PRIMARY KEY,
    iso_code         TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    aliases          TEXT NOT NULL DEFAULT '[]',
    phone_region     TEXT NOT NULL,
    phone_code       BIGINT NOT NULL,
    default_timezone TEXT NOT NULL,
    created_at       BIGINT NOT NULL
);

CREATE TABLE niches (
    slug       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE partners (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL,
    email                TEXT,
    country              TEXT NOT NULL REFERENCES markets (slug),
    niche                TEXT NOT NULL REFERENCES niches (slug),
    daily_limit          BIGINT NOT NULL,
    premium_ratio        BIGINT NOT NULL,
    timezone             TEXT NOT NULL,
    business_hours       TEXT,
    webhook_url          TEXT NOT NULL,
    phone_format         TEXT NOT NULL,
    required_fields      TEXT NOT NULL DEFAULT '[]',
    field_mapping        TEXT NOT NULL DEFAULT '{}',
    default_values       TEXT NOT NULL DEFAULT '{}',
    content_type         TEXT NOT NULL DEFAULT 'json',
    auth                 TEXT,
    status               TEXT NOT NULL DEFAULT 'active',
    paused_reason        TEXT,
    api_key_hash         TEXT NOT NULL UNIQUE,
    api_key_prefix       TEXT NOT NULL,
    signing_secret       TEXT NOT NULL,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    deleted_at           BIGINT
);
CREATE INDEX partners_market ON partners (country, niche, status);

CREATE TABLE sources (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL,
    kind              TEXT NOT NULL,
    token_hash        TEXT NOT NULL UNIQUE,
    token_prefix      TEXT NOT NULL,
    default_country   TEXT REFERENCES markets (slug),
    default_niche     TEXT REFERENCES niches (slug),
    default_lead_type TEXT,
    source_label      TEXT,
    redirect_url      TEXT,
    facebook          TEXT,
    status            TEXT NOT NULL DEFAULT 'active',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    deleted_at        BIGINT
);

CREATE TABLE leads (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id       BIGINT NOT NULL REFERENCES sources (id),
    external_id     TEXT,
    idempotency_key TEXT,
    status          TEXT NOT NULL,
    first_name      TEXT,
    last_name       TEXT,
    email           TEXT,
    phone           TEXT,
    country         TEXT NOT NULL,
    niche           TEXT NOT NULL,
    lead_type       TEXT NOT NULL,
    source_label    TEXT,
    custom_fields   TEXT NOT NULL DEFAULT '{}',
    partner_id      BIGINT REFERENCES partners (id),
    routing         TEXT,
    duplicate_of    BIGINT,
    route_after     BIGINT,
    held_since      BIGINT,
    received_at     BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    erased_at       BIGINT
);
CREATE UNIQUE INDEX leads_source_external ON leads (source_id, external_id);
CREATE UNIQUE INDEX leads_source_idempotency ON leads (source_id, idempotency_key);
CREATE INDEX leads_status_route ON leads (status, route_after);
CREATE INDEX leads_niche_email ON leads (niche, email, received_at);
CREATE INDEX leads_niche_phone ON leads (niche, phone, received_at);
CREATE INDEX leads_received ON leads (received_at);
CREATE INDEX leads_partner ON leads (partner_id);

CREATE TABLE lead_events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id BIGINT NOT NULL REFERENCES leads (id),
    status  TEXT NOT NULL,
    detail  TEXT,
    at      BIGINT NOT NULL
);
CREATE INDEX lead_events_lead ON lead_events (lead_id, at);

CREATE TABLE rejected_submissions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id    BIGINT REFERENCES sources (id),
    received_at  BIGINT NOT NULL,
    reason       TEXT NOT NULL,
    content_type TEXT,
    body         TEXT NOT NULL
);
CREATE INDEX rejected_received ON rejected_submissions (received_at);

CREATE TABLE facebook_notifications (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source_id       BIGINT NOT NULL REFERENCES sources (id),
    leadgen_id      TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    lead_id         BIGINT REFERENCES leads (id),
    received_at     BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE UNIQUE INDEX facebook_notifications_leadgen ON facebook_notifications (source_id, leadgen_id);
CREATE INDEX facebook_notifications_due ON facebook_notifications (status, next_attempt_at);

CREATE TABLE partner_daily_counts (
    partner_id BIGINT NOT NULL REFERENCES partners (id),
    day        TEXT NOT NULL,
    total      BIGINT NOT NULL DEFAULT 0,
    premium    BIGINT NOT NULL DEFAULT 0,
    raw        BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, day)
);

CREATE TABLE deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id         BIGINT NOT NULL REFERENCES leads (id),
    partner_id      BIGINT NOT NULL REFERENCES partners (id),
    status          TEXT NOT NULL DEFAULT 'pending',
    counted_day     TEXT,
    lead_type       TEXT NOT NULL,
    over_cap        SMALLINT NOT NULL DEFAULT 0,
    attempt_count   BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until     BIGINT,
    lease_owner     TEXT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    completed_at    BIGINT
);
CREATE UNIQUE INDEX deliveries_lead_partner ON deliveries (lead_id, partner_id);
CREATE INDEX deliveries_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_partner ON deliveries (partner_id, status);

CREATE TABLE delivery_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      BIGINT NOT NULL REFERENCES deliveries (id),
    attempt_no       BIGINT NOT NULL,
    at               BIGINT NOT NULL,
    status_code      BIGINT,
    latency_ms       BIGINT NOT NULL,
    outcome          TEXT NOT NULL,
    error            TEXT,
    response_excerpt TEXT
);
CREATE INDEX delivery_attempts_delivery ON delivery_attempts (delivery_id, attempt_no);
CREATE INDEX delivery_attempts_at ON delivery_attempts (at);

CREATE TABLE conversions (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    lead_id                 BIGINT NOT NULL REFERENCES leads (id),
    partner_id              BIGINT NOT NULL REFERENCES partners (id),
    conversion_type         TEXT NOT NULL,
    value_cents             BIGINT NOT NULL DEFAULT 0,
    external_transaction_id TEXT NOT NULL,
    metadata                TEXT,
    created_at              BIGINT NOT NULL
);
CREATE UNIQUE INDEX conversions_idempotency ON conversions (partner_id, lead_id, external_transaction_id);
CREATE INDEX conversions_created ON conversions (created_at);

CREATE TABLE admin_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_login_at BIGINT
);

CREATE TABLE admin_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    token_prefix TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);

CREATE TABLE notifications (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    kind                TEXT NOT NULL,
    partner_id          BIGINT REFERENCES partners (id),
    recipient           TEXT NOT NULL,
    subject             TEXT NOT NULL,
    body                TEXT NOT NULL,
    status              TEXT NOT NULL,
    provider_message_id TEXT,
    error               TEXT,
    created_at          BIGINT NOT NULL,
    sent_at             BIGINT
);
CREATE INDEX notifications_created ON notifications (created_at);
