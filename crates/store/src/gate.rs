//! Who writes next on SQLite's single writer: arriving leads before background work.
//!
//! A source waits for its lead's commit, so ingest is latency-critical; routing, delivery
//! bookkeeping and claims are not (they run in batches and can wait a transaction).
//! Background writers take turns among themselves first, and only then, when no ingest
//! batch is waiting, join the queue for the writer: an arriving batch waits for at most the
//! one transaction in progress.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::sync::{Mutex, MutexGuard, Notify};

#[derive(Debug, Default)]
pub(crate) struct WriteGate {
    turn: Mutex<()>,
    background: Mutex<()>,
    urgent_waiting: AtomicUsize,
    calm: Notify,
}

/// The writer is the holder's until this is dropped.
pub(crate) struct Turn<'a> {
    _turn: MutexGuard<'a, ()>,
    _background: Option<MutexGuard<'a, ()>>,
}

impl WriteGate {
    /// For a transaction a caller is waiting on.
    pub(crate) async fn urgent(&self) -> Turn<'_> {
        self.urgent_waiting.fetch_add(1, Ordering::SeqCst);
        let turn = self.turn.lock().await;
        if self.urgent_waiting.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.calm.notify_waiters();
        }
        Turn {
            _turn: turn,
            _background: None,
        }
    }

    /// For background work: one background writer at a time, and only while no urgent
    /// transaction waits.
    pub(crate) async fn background(&self) -> Turn<'_> {
        let background = self.background.lock().await;
        loop {
            let calm = self.calm.notified();
            tokio::pin!(calm);
            // Registered before the check, so a notification in between is not missed.
            calm.as_mut().enable();
            if self.urgent_waiting.load(Ordering::SeqCst) == 0 {
                return Turn {
                    _turn: self.turn.lock().await,
                    _background: Some(background),
                };
            }
            calm.await;
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
        // Two background writers queue while one holds the writer; then a lead arrives.
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
