-- One process writes an SQLite database: there is no other instance to wake (PostgreSQL's
-- migration 25 announces new leads with LISTEN/NOTIFY). Kept so that both folders hold the
-- same versions.
SELECT 1;
