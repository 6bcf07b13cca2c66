-- Figures rolled up per half hour (UTC), so that analytics over a year of leads reads a
-- few thousand rows. A row holds one half hour's figures for one group of one kind
-- ('day': everything, key ''; 'partner_day': by the partner's counted day; 'partner',
-- 'country', 'niche', 'source'), latencies as "ms:count" pairs. Half hours that closed
-- more than ten minutes ago are rolled; later changes to their leads mark them stale, and
-- stale half hours are rolled again.
CREATE TABLE figures (
    kind               TEXT NOT NULL,
    bucket             BIGINT NOT NULL,
    key                TEXT NOT NULL,
    received           BIGINT NOT NULL DEFAULT 0,
    delivered          BIGINT NOT NULL DEFAULT 0,
    rejected           BIGINT NOT NULL DEFAULT 0,
    failed             BIGINT NOT NULL DEFAULT 0,
    returned           BIGINT NOT NULL DEFAULT 0,
    conversions        BIGINT NOT NULL DEFAULT 0,
    revenue_cents      BIGINT NOT NULL DEFAULT 0,
    lead_revenue_cents BIGINT NOT NULL DEFAULT 0,
    latencies          TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (kind, bucket, key)
);
CREATE TABLE figures_state (
    id           SMALLINT PRIMARY KEY,
    rolled_until BIGINT NOT NULL
);
INSERT INTO figures_state (id, rolled_until) VALUES (1, 0);
CREATE TABLE figures_stale (
    bucket  BIGINT PRIMARY KEY,
    version BIGINT NOT NULL DEFAULT 1
);
-- Deliveries ended in a half hour are found by their end (and counted per partner and
-- outcome from the index alone).
CREATE INDEX deliveries_completed ON deliveries (completed_at, partner_id, status);

-- What a partner pays per delivered lead (cents), and the price each delivery was made at.
ALTER TABLE partners ADD COLUMN price_per_lead_cents BIGINT;
ALTER TABLE deliveries ADD COLUMN price_cents BIGINT;

-- The failed-deliveries queue, newest first, from an index of the failed ones only (a
-- delivery on its way to `delivered` never enters it).
CREATE INDEX deliveries_failed ON deliveries (id) WHERE status = 'failed';

-- Why a held lead waits ("outside business hours", "daily limit reached", ...): the
-- overview counts the held backlog by it.
ALTER TABLE leads ADD COLUMN held_reason TEXT;
