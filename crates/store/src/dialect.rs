//! The few places where SQLite and PostgreSQL need different SQL. Everything else in this
//! crate is one text for both.

/// Run on every new SQLite connection. WAL lets readers proceed while the single writer
/// commits; `synchronous=FULL` makes a commit durable before we answer a source with 2xx,
/// even across a power cut (group commit keeps the fsync cost shared).
pub(crate) const SQLITE_CONNECTION_PRAGMAS: &str = "PRAGMA journal_mode = WAL; \
     PRAGMA synchronous = FULL; \
     PRAGMA foreign_keys = ON; \
     PRAGMA busy_timeout = 10000;";
