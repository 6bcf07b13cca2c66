-- Partner rules (API.md "Partner rules"): the conditions on a lead a partner buys by.
ALTER TABLE partners ADD COLUMN filters TEXT NOT NULL DEFAULT '[]';
-- Its share against the others of its tier, and its tier (lower first).
ALTER TABLE partners ADD COLUMN weight BIGINT NOT NULL DEFAULT 100;
ALTER TABLE partners ADD COLUMN priority BIGINT NOT NULL DEFAULT 0;
