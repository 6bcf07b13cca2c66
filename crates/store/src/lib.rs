//! leadrouter's database: one [`Store`] over SQLite (the embedded default) or PostgreSQL,
//! chosen once from `DATABASE_URL`.
//!
//! The same SQL text (with `$1` placeholders, through sqlx's `Any` driver) serves both
//! backends; what really differs between them lives in [`dialect`]. The hot paths (ingest,
//! routing, delivered outcomes) build multi-row statements with `many::Marks`, which
//! writes `?` on SQLite, and run them as one script there (`many::run`).

pub mod admin;
pub mod clock;
pub mod conversions;
pub mod deliveries;
pub mod dialect;
mod error;
pub mod facebook;
mod gate;
pub use gate::Priority;
mod intake;
mod json;
pub mod leads;
mod many;
pub mod markets;
pub mod partners;
pub mod routing;
pub mod sources;
#[cfg(feature = "testing")]
pub mod testing;
mod transition;
mod url;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{AnyConnection, AnyPool, Connection, Executor, Row};
use std::time::Duration;

pub use error::StoreError;
pub use url::{Backend, DatabaseUrl, DatabaseUrlError, DEFAULT_DATABASE_URL};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Connection pools to the one database.
///
/// On SQLite all writes go through a single connection: SQLite admits one writer at a time
/// anyway, and serialising in the pool (rather than in SQLite's busy handler) means a write
/// transaction never fails with `SQLITE_BUSY` halfway through. Reads use their own pool and,
/// thanks to WAL, never wait for the writer. On PostgreSQL both are the same pool.
#[derive(Clone, Debug)]
pub struct Store {
    write: AnyPool,
    read: AnyPool,
    backend: Backend,
    /// Order of turns on SQLite's single writer.
    gate: std::sync::Arc<gate::WriteGate>,
}

#[derive(Clone, Debug)]
pub struct PoolSizes {
    pub sqlite_readers: u32,
    pub postgres: u32,
}

impl Default for PoolSizes {
    fn default() -> Self {
        Self {
            sqlite_readers: 4,
            postgres: 16,
        }
    }
}

impl Store {
    /// Opens the database (creating an SQLite file if missing). Does not migrate.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, StoreError> {
        Self::connect_with(url, &PoolSizes::default()).await
    }

    pub async fn connect_with(url: &DatabaseUrl, sizes: &PoolSizes) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let connect_url = url.connect_url();
        if let Some(path) = url.sqlite_path() {
            create_private_file(path)?;
        }
        // One direct attempt first: a refused or misnamed database fails at once with the
        // driver's own message, instead of after the pool's acquire timeout.
        AnyConnection::connect(&connect_url)
            .await
            .map_err(StoreError::connect)?
            .close()
            .await
            .map_err(StoreError::connect)?;
        let store = match url.backend() {
            Backend::Sqlite => {
                let write = AnyPoolOptions::new()
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .idle_timeout(None)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(dialect::SQLITE_CONNECTION_PRAGMAS).await?;
                            conn.execute(dialect::SQLITE_WRITER_PRAGMAS).await?;
                            Ok(())
                        })
                    })
                    .connect(&connect_url)
                    .await
                    .map_err(StoreError::connect)?;
                let read = AnyPoolOptions::new()
                    .max_connections(sizes.sqlite_readers.max(1))
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(dialect::SQLITE_CONNECTION_PRAGMAS).await?;
                            Ok(())
                        })
                    })
                    .connect(&connect_url)
                    .await
                    .map_err(StoreError::connect)?;
                Store {
                    write,
                    read,
                    backend: Backend::Sqlite,
                    gate: Default::default(),
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(sizes.postgres.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(&connect_url)
                    .await
                    .map_err(StoreError::connect)?;
                Store {
                    write: pool.clone(),
                    read: pool,
                    backend: Backend::Postgres,
                    gate: Default::default(),
                }
            }
        };
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies every migration not yet applied. Safe to run from several instances at once
    /// (PostgreSQL takes an advisory lock; SQLite serialises on its single writer).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.write).await.map_err(StoreError::Migrate)
    }

    /// The versions of the migrations this binary carries, in order.
    pub fn known_migrations(backend: Backend) -> Vec<i64> {
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.iter().map(|m| m.version).collect()
    }

    /// The versions recorded as applied in this database.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let rows = sqlx::query(
            "SELECT version FROM _sqlx_migrations WHERE success = TRUE ORDER BY version",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r: &AnyRow| r.try_get::<i64, _>(0).map_err(StoreError::from))
            .collect()
    }

    /// Answers whether the database is reachable and answering queries.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").fetch_one(&self.read).await?;
        Ok(())
    }

    /// Waits for in-flight queries and closes every connection.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// The writer, for a write of this priority: on SQLite it waits for its turn and holds
    /// it until the [`gate::Writer`] (or the transaction begun from it) is dropped, so every
    /// write states its priority and none can skip the gate. PostgreSQL has many
    /// connections and needs no turns.
    pub(crate) async fn write(&self, priority: Priority) -> gate::Writer<'_> {
        let turn = match (self.backend, priority) {
            (Backend::Sqlite, Priority::Urgent) => Some(self.gate.urgent().await),
            (Backend::Sqlite, Priority::Background) => Some(self.gate.background().await),
            (Backend::Postgres, _) => None,
        };
        gate::Writer::new(&self.write, turn)
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }
}

/// Creates a missing SQLite database file readable by its owner only (0600) before SQLite
/// opens it; SQLite gives its `-wal` and `-shm` files the same mode as the database. An
/// existing file that others can read is left as it is, with a warning.
fn create_private_file(path: &str) -> Result<(), StoreError> {
    if path.is_empty() || path.starts_with(':') || path.contains("mode=memory") {
        return Ok(());
    }
    let path = std::path::Path::new(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                if let Ok(meta) = std::fs::metadata(path) {
                    let mode = meta.permissions().mode() & 0o777;
                    if mode & 0o077 != 0 {
                        tracing::warn!(
                            mode = format!("{mode:o}"),
                            "the SQLite database file can be read by other users; chmod 600 it"
                        );
                    }
                }
            }
            Ok(())
        }
        // A missing directory and the like: SQLite's own error says it best.
        Err(_) => Ok(()),
    }
}
