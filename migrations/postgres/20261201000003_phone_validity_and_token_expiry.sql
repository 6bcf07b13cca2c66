-- (PostgreSQL dialect; keep in step with migrations/sqlite.)
-- A phone of a possible length whose range libphonenumber does not know is kept and
-- flagged; a partner may take valid phones only. Admin tokens may expire.
ALTER TABLE leads ADD COLUMN phone_valid SMALLINT NOT NULL DEFAULT 1;
ALTER TABLE partners ADD COLUMN valid_phone_only SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE admin_tokens ADD COLUMN expires_at BIGINT;
