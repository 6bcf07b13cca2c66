-- The operators' search for part of a name, an e-mail address or a phone number: a
-- trigram index (pg_trgm) of each lead's words, so that a search reads the leads it finds
-- instead of every lead. The query repeats the indexed expression exactly
-- (store::backend::dialect::LEAD_WORDS). Where pg_trgm cannot be installed the search
-- still works, reading the leads newest first as before.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available (%): the lead search reads the leads', SQLERRM;
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX leads_search ON leads USING gin ((COALESCE(first_name, '') || ' '
            || COALESCE(last_name, '') || chr(10) || COALESCE(email, '') || chr(10)
            || COALESCE(phone, '')) gin_trgm_ops);
    END IF;
END
$$;
