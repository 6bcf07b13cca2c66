-- Deliveries sent to a partner at once, for a partner that asks for fewer than the
-- engine's default (NULL: the default).
ALTER TABLE partners ADD COLUMN max_concurrency BIGINT;
