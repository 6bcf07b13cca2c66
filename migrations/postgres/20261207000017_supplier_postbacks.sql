-- A supplier's postback (API.md "Suppliers"): the URL template its tracker receives and
-- the events it hears of (a JSON array).
ALTER TABLE sources ADD COLUMN postback_url TEXT;
ALTER TABLE sources ADD COLUMN postback_events TEXT NOT NULL DEFAULT '["delivered","rejected","converted","returned"]';
