//! The few places where SQLite and PostgreSQL need different SQL. Everything else in this
//! crate is one text for both.

/// Run on every new SQLite connection. WAL lets readers proceed while the single writer
/// commits; `synchronous=FULL` makes a commit durable before we answer a source with 2xx,
/// even across a power cut (group commit keeps the fsync cost shared).
pub(crate) const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000;";

/// The writer's page cache: large enough to keep the hot index pages of a big database
/// (the default 2 MiB makes every insert re-read pages once the database outgrows it).
/// `secure_delete`: space a change frees is zeroed, so an erased person's values do not
/// stay behind in the file's free space (the writer is the only connection that writes).
pub(crate) const SQLITE_WRITER_PRAGMAS: &str =
    "PRAGMA cache_size = -32768; PRAGMA secure_delete = ON;";

use crate::Backend;

/// Claims up to `$3` leads due for routing by pushing their `route_after` a lease ahead, so
/// that other routers (other instances) pass them by. On PostgreSQL rows another router is
/// claiming right now are skipped rather than waited for.
pub(crate) fn claim_routable_sql(backend: Backend) -> &'static str {
    match backend {
        // Three index ranges, each read in id order and cut at the limit, so that a claim
        // costs the same however many leads wait (one query with OR sorted them all).
        Backend::Sqlite => {
            "UPDATE leads SET route_after = $1 WHERE id IN (SELECT id FROM (\
             SELECT id FROM (SELECT id FROM leads WHERE status = 'queued' AND route_after IS NULL \
             ORDER BY id LIMIT $3) \
             UNION ALL SELECT id FROM (SELECT id FROM leads WHERE status = 'queued' \
             AND route_after <= $2 ORDER BY id LIMIT $3) \
             UNION ALL SELECT id FROM (SELECT id FROM leads WHERE status = 'held' \
             AND route_after <= $2 ORDER BY id LIMIT $3)) ORDER BY id LIMIT $3) RETURNING id"
        }
        Backend::Postgres => {
            "UPDATE leads SET route_after = $1 WHERE id IN (SELECT id FROM leads WHERE \
             (status = 'queued' AND (route_after IS NULL OR route_after <= $2)) \
             OR (status = 'held' AND route_after <= $2) ORDER BY id LIMIT $3 \
             FOR UPDATE SKIP LOCKED) RETURNING id"
        }
    }
}

/// Claims due deliveries of active partners: `lease_until = $1`, `lease_owner = $2`. A
/// claimed delivery is next due when its lease ends (should its worker die), which keeps
/// leased rows out of the due range of the index.
/// Claims due deliveries; those of the `except` partners are left alone (the ids are
/// integers, written into the text).
pub(crate) fn claim_deliveries_sql(backend: Backend, except: &[i64]) -> String {
    let skip = if except.is_empty() {
        String::new()
    } else {
        let ids: Vec<String> = except.iter().map(i64::to_string).collect();
        format!("AND d.partner_id NOT IN ({}) ", ids.join(", "))
    };
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
    };
    format!(
        "UPDATE deliveries SET lease_until = $1, next_attempt_at = $1, lease_owner = $2 WHERE id IN (\
         SELECT d.id FROM deliveries d JOIN partners p ON p.id = d.partner_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= $3 \
         AND (d.lease_until IS NULL OR d.lease_until <= $3) AND p.status = 'active' {skip}\
         ORDER BY d.next_attempt_at, d.id LIMIT $4{lock}) \
         RETURNING id, lead_id, partner_id, attempt_count"
    )
}

/// `column` in a condition that should not pick an index of its own: a listing that reads
/// newest first by id finds a page of common values at once, and sorting every row of one
/// status or market would cost far more; a partner's latest attempts are found through its
/// latest deliveries, not by reading a day of everyone's attempts. SQLite's unary `+` says
/// so; PostgreSQL's planner weighs the alternatives itself (and has no `+` for text).
pub(crate) fn unindexed(backend: Backend, column: &str) -> String {
    match backend {
        Backend::Sqlite => format!("+{column}"),
        Backend::Postgres => column.to_string(),
    }
}

/// The statement that copies the live database into the file named by `$1`, on the
/// backends that have one.
pub(crate) fn online_copy_sql(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => Some("VACUUM INTO $1"),
        Backend::Postgres => None,
    }
}

/// Empties the write-ahead log into the database file and truncates it (SQLite); PostgreSQL
/// has nothing of the kind to run.
pub(crate) fn truncate_log_sql(backend: Backend) -> Option<&'static str> {
    match backend {
        Backend::Sqlite => Some("PRAGMA wal_checkpoint(TRUNCATE)"),
        Backend::Postgres => None,
    }
}

/// The texts of `expr` over a group, joined by spaces.
pub(crate) fn joined_text(backend: Backend, expr: &str) -> String {
    match backend {
        Backend::Sqlite => format!("group_concat({expr}, ' ')"),
        Backend::Postgres => format!("string_agg({expr}, ' ')"),
    }
}

/// The deliveries table, as `d`, read through the index of failed deliveries (newest first
/// among the failed ones). SQLite, without statistics, would rather read every failed
/// delivery by status and sort them; PostgreSQL's planner picks the small index itself.
pub(crate) fn failed_deliveries(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => "deliveries d INDEXED BY deliveries_failed",
        Backend::Postgres => "deliveries d",
    }
}

/// Whether new leads reach the search index by the timed job's batches (SQLite: an FTS5
/// row costs five times as much one at a time on the ingest's path) rather than with
/// their own insert (PostgreSQL: one statement per insert of leads, by a trigger; ids
/// there become visible out of order, which a cursor over them would miss).
pub fn lead_search_batched(backend: Backend) -> bool {
    backend == Backend::Sqlite
}

/// SQLite: indexes the leads with ids in `($1, $2]` (their words as migration 22 writes
/// them).
pub(crate) const LEAD_SEARCH_FILL: &str = "INSERT INTO lead_search (rowid, words) \
     SELECT id, COALESCE(first_name, '') || ' ' || COALESCE(last_name, '') || char(10) \
     || COALESCE(email, '') || char(10) || COALESCE(phone, '') FROM leads \
     WHERE id > $1 AND id <= $2";

/// Ids of the leads whose words (name, e-mail, phone) contain the term `$1` (as
/// [`lead_search_term`] spells it), below id `$2`, newest first, at most `$3`: through
/// the trigram index of migration 22 (FTS5 on SQLite, pg_trgm on PostgreSQL).
pub fn lead_search_sql(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "SELECT rowid FROM lead_search WHERE lead_search MATCH $1 AND rowid < $2 \
             ORDER BY rowid DESC LIMIT $3"
        }
        Backend::Postgres => {
            "SELECT lead_id FROM lead_search WHERE words ILIKE $1 AND lead_id < $2 \
             ORDER BY lead_id DESC LIMIT $3"
        }
    }
}

/// `text` as [`lead_search_sql`] looks for it anywhere in a lead's words, any case: an
/// FTS5 phrase (whose trigrams must follow each other) on SQLite, an `ILIKE` pattern with
/// its wildcards escaped on PostgreSQL.
pub fn lead_search_term(backend: Backend, text: &str) -> String {
    match backend {
        Backend::Sqlite => format!("\"{}\"", text.replace('"', "\"\"")),
        Backend::Postgres => {
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            format!("%{escaped}%")
        }
    }
}
