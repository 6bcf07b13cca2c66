//! Opening the pools: on SQLite one writer connection and a pool of readers, each with its
//! PRAGMAs; on PostgreSQL one pool for both.

use super::dialect;
use super::url::{Backend, DatabaseUrl};
use crate::{PoolSizes, StoreError};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use std::time::Duration;

/// The writer pool and the reader pool (the same pool on PostgreSQL).
pub(crate) async fn open(
    url: &DatabaseUrl,
    sizes: &PoolSizes,
) -> Result<(AnyPool, AnyPool), StoreError> {
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
    let pools = match url.backend() {
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
                // Opened at start, not by the first requests that read.
                .min_connections(sizes.sqlite_readers.max(1))
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
            (write, read)
        }
        Backend::Postgres => {
            let pool = AnyPoolOptions::new()
                .max_connections(sizes.postgres.max(2))
                // A few opened at start (a connection costs the server a process and an
                // authentication), so that the first leads do not wait for them.
                .min_connections(sizes.postgres.clamp(2, 4))
                // A server that is down is known within this, not after half a minute of
                // refused connections (the ingest answers 503 meanwhile).
                .acquire_timeout(POSTGRES_WAIT)
                .connect(&connect_url)
                .await
                .map_err(StoreError::connect)?;
            (pool.clone(), pool)
        }
    };
    Ok(pools)
}

/// How long a PostgreSQL query waits for a connection before the database counts as
/// unavailable.
const POSTGRES_WAIT: Duration = Duration::from_secs(3);

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
