//! Timed jobs: each runs every so often on the engine's clock (expiring held leads today;
//! daily summaries and retention are jobs of the same kind). A job that fails is logged
//! and tried again at its next time; jobs never overlap, as they run one after another.

use crate::signals::Signals;
use leadrouter_core::clock::{Clock, EpochMillis};
use leadrouter_store::{Store, StoreError};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

type Run = Box<
    dyn Fn(Store, EpochMillis) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send>>
        + Send
        + Sync,
>;

/// One timed job.
pub struct Job {
    pub name: &'static str,
    pub every: Duration,
    run: Run,
}

impl Job {
    pub fn new<F, Fut>(name: &'static str, every: Duration, run: F) -> Job
    where
        F: Fn(Store, EpochMillis) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send + 'static,
    {
        Job {
            name,
            every,
            run: Box::new(move |store, now| Box::pin(run(store, now))),
        }
    }
}

/// Expires held leads received longer than `hold_max` ago.
pub fn expire_held(hold_max: Duration, signals: Signals) -> Job {
    let hold_ms = hold_max.as_millis() as i64;
    Job::new(
        "expire held leads",
        Duration::from_secs(1),
        move |store, now| {
            let signals = signals.clone();
            async move {
                let expired = store.expire_held(now - hold_ms, now).await?;
                if expired > 0 {
                    tracing::info!(expired, "held leads expired");
                    signals
                        .metrics()
                        .routed(leadrouter_core::status::LeadStatus::Expired, expired);
                }
                Ok(())
            }
        },
    )
}

/// Rolls up the analytics figures of closed half hours and rolls stale ones again.
pub fn roll_figures() -> Job {
    Job::new(
        "roll up figures",
        Duration::from_secs(60),
        |store, now| async move {
            let rolled = store.roll_figures(now).await?;
            if rolled.new + rolled.again > 0 {
                tracing::debug!(new = rolled.new, again = rolled.again, "figures rolled up");
            }
            Ok(())
        },
    )
}

/// Adds the leads received since the last second to the search index (SQLite; on
/// PostgreSQL the index keeps itself and this reads nothing), a batch at a time until
/// none is left.
pub fn index_lead_search() -> Job {
    Job::new(
        "index leads for search",
        Duration::from_secs(1),
        |store, _now| async move {
            for _ in 0..100 {
                if store.index_new_leads().await? < leadrouter_store::lead_search::INDEX_BATCH {
                    break;
                }
            }
            Ok(())
        },
    )
}

/// Clears attempts' response excerpts and bodies sent once older than `keep`
/// (`LEADROUTER_ATTEMPT_BODY_RETENTION`), in small batches; remembers where it got to.
pub fn clear_attempt_bodies(keep: Duration) -> Job {
    let keep_ms = keep.as_millis() as i64;
    let done_until = Arc::new(std::sync::atomic::AtomicI64::new(0));
    Job::new(
        "clear old attempt bodies",
        Duration::from_secs(60),
        move |store, now| {
            let done_until = Arc::clone(&done_until);
            async move {
                let from = done_until.load(std::sync::atomic::Ordering::Relaxed);
                let (at, cleared) = store.clear_attempt_bodies(from, now - keep_ms).await?;
                done_until.store(at, std::sync::atomic::Ordering::Relaxed);
                if cleared > 0 {
                    tracing::info!(cleared, "old attempt bodies cleared");
                }
                Ok(())
            }
        },
    )
}

/// Deletes failed logins older than the throttle's window and sessions that have ended
/// (past their absolute expiry or idle too long): neither is kept for ever.
pub fn purge_logins() -> Job {
    use leadrouter_core::login::{SESSION_IDLE_MS, WINDOW_MS};
    Job::new(
        "purge old logins",
        Duration::from_secs(300),
        |store, now| async move {
            let gone = store
                .purge_logins(now - WINDOW_MS, now, now - SESSION_IDLE_MS)
                .await?;
            if gone > 0 {
                tracing::debug!(gone, "old failed logins and ended sessions deleted");
            }
            Ok(())
        },
    )
}

pub struct Scheduler {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub signals: Signals,
    pub jobs: Vec<Job>,
}

/// Longest sleep without looking at the clock (a test's clock may jump).
const IDLE_POLL: Duration = Duration::from_secs(1);

impl Scheduler {
    pub async fn run(self, shutdown: CancellationToken) {
        let mut next: Vec<EpochMillis> = vec![EpochMillis::MIN; self.jobs.len()];
        loop {
            let pass = self.signals.pass();
            // Asked to look now (run_until_idle): every job runs, whatever its time.
            let all = self.signals.jobs_wanted();
            for (job, next_at) in self.jobs.iter().zip(next.iter_mut()) {
                let now = self.clock.now_ms();
                if !all && now < *next_at {
                    continue;
                }
                *next_at = now + job.every.as_millis() as i64;
                if let Err(e) = (job.run)(self.store.clone(), now).await {
                    tracing::warn!(job = job.name, error = %e, "a timed job failed; it runs again at its next time");
                }
            }
            if all {
                self.signals.jobs_ran();
            }
            drop(pass);
            let now = self.clock.now_ms();
            let soonest = next.iter().min().copied().unwrap_or(EpochMillis::MAX);
            let pause =
                Duration::from_millis(soonest.saturating_sub(now).max(0) as u64).min(IDLE_POLL);
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = self.signals.schedule_wanted() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }
}
