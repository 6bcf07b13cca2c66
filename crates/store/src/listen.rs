//! Other instances' new leads, heard through PostgreSQL's LISTEN/NOTIFY: every insert of
//! leads notifies `leadrouter_work` when its transaction commits (migration 25), and each
//! instance listens, so that a lead stored by one wakes every router at once. SQLite has one
//! process: nothing to hear.

use crate::{Backend, Store, StoreError};

/// The channel new leads are announced on.
pub const WORK_CHANNEL: &str = "leadrouter_work";

/// A connection listening for other instances' work.
pub struct WorkListener(sqlx::postgres::PgListener);

impl Store {
    /// A listener for new leads stored by any instance; `None` on SQLite.
    pub async fn work_listener(&self) -> Result<Option<WorkListener>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let mut listener = sqlx::postgres::PgListener::connect(&self.url.connect_url()).await?;
        listener.listen(WORK_CHANNEL).await?;
        Ok(Some(WorkListener(listener)))
    }
}

impl WorkListener {
    /// Waits for the next announcement. A lost connection is made again by the next call
    /// (what was announced meanwhile is missed; the loops' polling finds it).
    pub async fn next(&mut self) -> Result<(), StoreError> {
        self.0.recv().await?;
        Ok(())
    }
}
