-- Partner rules (API.md "Partner rules"): caps beside the daily limit and budgets, each
-- counted in a window of the partner's own clock.
ALTER TABLE partners ADD COLUMN cap_hourly BIGINT;
ALTER TABLE partners ADD COLUMN cap_weekly BIGINT;
ALTER TABLE partners ADD COLUMN cap_monthly BIGINT;
ALTER TABLE partners ADD COLUMN cap_total BIGINT;
ALTER TABLE partners ADD COLUMN budget_daily_cents BIGINT;
ALTER TABLE partners ADD COLUMN budget_monthly_cents BIGINT;
-- What each window took: leads counted and money charged. A window is named by its key
-- (`h:2026-10-25T02+0200`, `d:2026-10-25`, `w:2026-10-19`, `m:2026-10`, `t`); rows exist
-- only for partners with a cap or budget, and only the windows those count in.
CREATE TABLE partner_window_counts (
    partner_id BIGINT NOT NULL,
    window_key TEXT NOT NULL,
    leads BIGINT NOT NULL DEFAULT 0,
    spent_cents BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (partner_id, window_key)
);
-- The windows a delivery was counted in (space-separated keys), given back with it.
ALTER TABLE deliveries ADD COLUMN counted_windows TEXT NOT NULL DEFAULT '';
