-- The operators' search for part of a name, an e-mail address or a phone number: each
-- lead's words in their own table with a trigram index (pg_trgm), so that a search reads
-- the leads it finds instead of every lead. Apart from `leads`: a lead's row is written
-- again as it is routed and delivered, and each time every index on it is too; its words
-- are indexed once, when the lead arrives (one statement for each insert of leads), and
-- again only when they change (an erasure clears them). Where pg_trgm cannot be installed
-- the search still works, reading the words without an index.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): the lead search reads every lead', SQLERRM;
END
$$;
CREATE TABLE lead_search (
    lead_id BIGINT PRIMARY KEY REFERENCES leads (id) ON DELETE CASCADE,
    words   TEXT NOT NULL
);
INSERT INTO lead_search (lead_id, words) SELECT id, COALESCE(first_name, '') || ' ' || COALESCE(last_name, '') || chr(10) || COALESCE(email, '') || chr(10) || COALESCE(phone, '') FROM leads;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX lead_search_words ON lead_search USING gin (words gin_trgm_ops);
    END IF;
END
$$;
CREATE FUNCTION lead_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_search (lead_id, words) SELECT id, COALESCE(first_name, '') || ' ' || COALESCE(last_name, '') || chr(10) || COALESCE(email, '') || chr(10) || COALESCE(phone, '') FROM new_leads;
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_search_insert AFTER INSERT ON leads REFERENCING NEW TABLE AS new_leads
    FOR EACH STATEMENT EXECUTE FUNCTION lead_search_insert();
CREATE FUNCTION lead_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE lead_search SET words = COALESCE(NEW.first_name, '') || ' ' || COALESCE(NEW.last_name, '') || chr(10) || COALESCE(NEW.email, '') || chr(10) || COALESCE(NEW.phone, '') WHERE lead_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER lead_search_update AFTER UPDATE OF first_name, last_name, email, phone ON leads
    FOR EACH ROW EXECUTE FUNCTION lead_search_update();
