//! Everything that differs between SQLite and PostgreSQL, in one place: the URL and which
//! backend it names, opening the pools (SQLite's single writer, PRAGMAs), the turns on that
//! writer, statements that must be spelled differently, multi-row placeholders and scripts,
//! lead id allocation, and the migrations of each dialect.

pub(crate) mod connect;
pub mod dialect;
pub mod gate;
pub(crate) mod ids;
pub(crate) mod many;
pub mod url;

use sqlx::migrate::Migrator;
use url::Backend;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// The migrations of `backend`'s dialect.
pub(crate) fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}
