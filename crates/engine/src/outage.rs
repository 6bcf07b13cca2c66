//! Whether the database is known to be unreachable. A write that finds it so sets it; a
//! probe, started then, clears it as soon as the database answers again. Meanwhile the
//! ingest refuses new leads at once (503, try again) instead of letting each request wait
//! for a connection that will not come: a source is never told a lead was taken that was
//! not stored, and is told so within the connection wait (3 s on PostgreSQL) at most,
//! at once once the mark is set.

use leadrouter_store::{Store, StoreError};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Between two probes of an unreachable database.
const PROBE_EVERY: Duration = Duration::from_millis(250);
/// How long one probe may take.
const PROBE_WAIT: Duration = Duration::from_secs(1);

pub struct Outage {
    down: AtomicBool,
    store: Store,
}

impl Outage {
    pub fn new(store: Store) -> Arc<Self> {
        Arc::new(Self {
            down: AtomicBool::new(false),
            store,
        })
    }

    /// `true` from a write that found the database unreachable until a probe reached it.
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Acquire)
    }

    /// What a request is told while the database is down.
    pub fn refusal() -> StoreError {
        StoreError::Unavailable("the database cannot be reached; try again shortly".into())
    }

    /// Records that a write found the database unreachable; the first report starts the
    /// probe that ends the outage.
    pub fn report(self: &Arc<Self>, error: &StoreError) {
        if self.down.swap(true, Ordering::AcqRel) {
            return;
        }
        tracing::error!(error = %error, "the database is unavailable: new leads are refused (503) until it answers again");
        let outage = Arc::clone(self);
        tokio::spawn(async move { outage.probe().await });
    }

    async fn probe(&self) {
        let started = tokio::time::Instant::now();
        loop {
            tokio::time::sleep(PROBE_EVERY).await;
            if let Ok(Ok(())) = tokio::time::timeout(PROBE_WAIT, self.store.ping()).await {
                self.down.store(false, Ordering::Release);
                tracing::info!(
                    down_ms = started.elapsed().as_millis() as u64,
                    "the database answers again: leads are taken in"
                );
                return;
            }
        }
    }
}
