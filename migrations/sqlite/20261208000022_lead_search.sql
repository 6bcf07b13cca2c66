-- The operators' search for part of a name, an e-mail address or a phone number: a
-- trigram index of each lead's words, so that a search reads the leads it finds instead of
-- every lead. New leads are indexed in batches by a timed job (one statement for thousands
-- of leads costs a fifth of what one per lead did on the ingest's path); the search reads
-- the few leads after `indexed_through` itself. Triggers keep indexed leads' words when
-- they change or go, and with 'secure-delete' a changed or deleted lead's entries leave
-- the index at once (the database's secure_delete zeroes the space they used): nothing of
-- an erased person stays behind in it.
CREATE VIRTUAL TABLE lead_search USING fts5 (words, tokenize = 'trigram');
INSERT INTO lead_search (lead_search, rank) VALUES ('secure-delete', 1);
CREATE TABLE lead_search_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through BIGINT NOT NULL
);
INSERT INTO lead_search (rowid, words)
    SELECT id, COALESCE(first_name, '') || ' ' || COALESCE(last_name, '') || char(10)
        || COALESCE(email, '') || char(10) || COALESCE(phone, '')
    FROM leads;
INSERT INTO lead_search_state (id, indexed_through) SELECT 1, COALESCE(MAX(id), 0) FROM leads;
CREATE TRIGGER lead_search_update AFTER UPDATE OF first_name, last_name, email, phone ON leads
BEGIN
    UPDATE lead_search SET words =
        COALESCE(new.first_name, '') || ' ' || COALESCE(new.last_name, '') || char(10)
        || COALESCE(new.email, '') || char(10) || COALESCE(new.phone, '')
    WHERE rowid = new.id;
END;
CREATE TRIGGER lead_search_delete AFTER DELETE ON leads BEGIN
    DELETE FROM lead_search WHERE rowid = old.id;
END;
