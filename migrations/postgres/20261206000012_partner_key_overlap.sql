-- A rotated partner API key may keep working beside the new one for a while, so that the
-- partner can switch without a gap (a leaked key is rotated without the overlap).
ALTER TABLE partners ADD COLUMN previous_api_key_hash TEXT;
ALTER TABLE partners ADD COLUMN previous_api_key_until BIGINT;
CREATE INDEX partners_previous_api_key_hash ON partners (previous_api_key_hash)
    WHERE previous_api_key_hash IS NOT NULL;
