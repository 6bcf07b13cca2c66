use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A uniqueness rule of the schema refused the write; the caller decides what that means
    /// (an idempotent repeat, a 409), close to the query that caused it.
    #[error("already exists: {0}")]
    Conflict(String),
    #[error("not found")]
    NotFound,
    /// The operation does not exist for this backend; the message says what to use.
    #[error("{0}")]
    Unsupported(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("stored data is malformed: {0}")]
    Corrupt(String),
    /// The database cannot be reached now (down, restarting, refusing connections): the
    /// caller may try again shortly; nothing was written.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// Whether the error says the database cannot be reached now, rather than that the
    /// request was wrong: no connection within the wait, a connection lost or refused, the
    /// server shutting down or starting up (SQLSTATE classes 08 and 57P).
    pub fn is_unavailable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) | StoreError::Connect(e) => match e {
                sqlx::Error::PoolTimedOut
                | sqlx::Error::Io(_)
                | sqlx::Error::Tls(_)
                | sqlx::Error::Protocol(_)
                | sqlx::Error::WorkerCrashed => true,
                sqlx::Error::Database(db) => db
                    .code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
                _ => false,
            },
            _ => false,
        }
    }

    pub(crate) fn connect(e: sqlx::Error) -> Self {
        StoreError::Connect(e)
    }

    /// Maps a unique-constraint violation to [`StoreError::Conflict`], naming what clashed.
    pub(crate) fn on_unique(what: &str) -> impl FnOnce(sqlx::Error) -> StoreError + '_ {
        move |e| match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(what.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// The mapped row of an `UPDATE ... RETURNING` that must have matched, else `NotFound`.
pub(crate) fn found<T>(
    row: Option<sqlx::any::AnyRow>,
    map: impl Fn(&sqlx::any::AnyRow) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    row.as_ref()
        .map(map)
        .transpose()?
        .ok_or(StoreError::NotFound)
}
