//! Who writes next on SQLite's single writer: arriving leads before background work.
//!
//! A source waits for its lead's commit, so ingest is latency-critical; routing, delivery
//! bookkeeping and claims are not (they run in batches and can wait a transaction).
//! Background writers take turns among themselves first and only then join the queue for
//! the writer, so an arriving batch waits for at most the transaction in progress and one
//! background transaction (without the gate: for every background task at once).

use sqlx::{Any, AnyConnection, AnyPool, Transaction};
use tokio::sync::{Mutex, MutexGuard};

/// Whose write it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// Someone waits on it (an arriving lead's commit).
    Urgent,
    /// Routing, delivery bookkeeping, claims, retries, failure counts, operators' changes.
    Background,
}

/// The writer pool with the turn it was given.
pub(crate) struct Writer<'a> {
    pool: &'a AnyPool,
    turn: Option<Turn<'a>>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(pool: &'a AnyPool, turn: Option<Turn<'a>>) -> Self {
        Self { pool, turn }
    }

    /// For one statement; the turn is held while `self` lives (to the end of the statement
    /// when used as a temporary).
    pub(crate) fn pool(&self) -> &AnyPool {
        self.pool
    }

    /// A transaction that holds the turn until it is committed or dropped.
    pub(crate) async fn begin(self) -> Result<WriteTx<'a>, sqlx::Error> {
        let tx = self.pool.begin().await?;
        Ok(WriteTx {
            tx,
            _turn: self.turn,
        })
    }
}

/// A write transaction with its turn on the writer.
pub(crate) struct WriteTx<'a> {
    tx: Transaction<'static, Any>,
    _turn: Option<Turn<'a>>,
}

impl WriteTx<'_> {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for WriteTx<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for WriteTx<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

#[derive(Debug, Default)]
pub(crate) struct WriteGate {
    turn: Mutex<()>,
    background: Mutex<()>,
}

/// The writer is the holder's until this is dropped.
pub(crate) struct Turn<'a> {
    _turn: MutexGuard<'a, ()>,
    _background: Option<MutexGuard<'a, ()>>,
}

impl WriteGate {
    /// The turn a write of `priority` waits for: SQLite's single writer takes turns,
    /// PostgreSQL has many connections and needs none.
    pub(crate) async fn turn(
        &self,
        backend: super::url::Backend,
        priority: Priority,
    ) -> Option<Turn<'_>> {
        use super::url::Backend;
        match (backend, priority) {
            (Backend::Sqlite, Priority::Urgent) => Some(self.urgent().await),
            (Backend::Sqlite, Priority::Background) => Some(self.background().await),
            (Backend::Postgres, _) => None,
        }
    }

    /// For a transaction a caller is waiting on.
    pub(crate) async fn urgent(&self) -> Turn<'_> {
        Turn {
            _turn: self.turn.lock().await,
            _background: None,
        }
    }

    /// For background work: background writers take turns among themselves, so at most
    /// one of them is queued for the writer at any time. (Not behind every urgent
    /// transaction: under a steady stream of leads that would starve routing.)
    pub(crate) async fn background(&self) -> Turn<'_> {
        let background = self.background.lock().await;
        Turn {
            _turn: self.turn.lock().await,
            _background: Some(background),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_urgent_writer_goes_before_background_writers_that_came_first() {
        let gate = Arc::new(WriteGate::default());
        let order = Arc::new(std::sync::Mutex::new(Vec::new()));
        let held = gate.background().await;
        let spawn = |name: &'static str| {
            let (gate, order) = (Arc::clone(&gate), Arc::clone(&order));
            tokio::spawn(async move {
                let _turn = if name == "urgent" {
                    gate.urgent().await
                } else {
                    gate.background().await
                };
                order.lock().unwrap().push(name);
                settle().await;
            })
        };
        // Two background writers queue while one holds the writer; then a lead arrives: it
        // is next. Background work queued after it still comes before later leads.
        let first = spawn("background 1");
        settle().await;
        let second = spawn("background 2");
        settle().await;
        let urgent = spawn("urgent");
        settle().await;
        drop(held);
        for task in [first, second, urgent] {
            task.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            ["urgent", "background 1", "background 2"]
        );
    }
}
