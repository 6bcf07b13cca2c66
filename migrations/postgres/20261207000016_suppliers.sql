-- Suppliers (API.md "Suppliers — sources as businesses"): what the operator pays per
-- delivered lead, and how many leads a day a source may send.
ALTER TABLE sources ADD COLUMN cost_per_lead_cents BIGINT;
ALTER TABLE sources ADD COLUMN daily_cap BIGINT;
-- Leads accepted per source and operator day, counted only for sources with a cap.
CREATE TABLE source_daily_counts (
    source_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    accepted BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (source_id, day)
);
-- What the operator pays the supplier for the lead if it is delivered (the source's cost
-- per lead when it arrived), and the cost in the figures' roll-up.
ALTER TABLE leads ADD COLUMN cost_cents BIGINT NOT NULL DEFAULT 0;
ALTER TABLE figures ADD COLUMN cost_cents BIGINT NOT NULL DEFAULT 0;
