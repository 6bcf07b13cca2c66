//! Group commit for inbound leads.
//!
//! Each request hands its submission to one writer task and waits. The writer takes every
//! submission waiting at that moment (up to a batch limit), stores them in one transaction,
//! commits once (one fsync for all of them), and only then answers each request. Under load
//! batches grow by themselves; alone, a lead is committed at once.

use crate::outage::Outage;
use crate::signals::Signals;
use leadrouter_store::leads::{Ingested, Submission};
use leadrouter_store::{Store, StoreError};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy)]
pub struct IngestSettings {
    /// 0 disables dedupe.
    pub dedupe_window_ms: i64,
    /// Most submissions committed in one transaction.
    pub max_batch: usize,
    /// Writer tasks committing batches side by side. SQLite has one writer anyway; on
    /// PostgreSQL several overlap their network round trips (idempotency holds through the
    /// unique indexes; see `Store::insert_leads`).
    pub writers: usize,
}

impl Default for IngestSettings {
    fn default() -> Self {
        Self {
            dedupe_window_ms: 30 * 86_400_000,
            max_batch: 512,
            writers: 1,
        }
    }
}

struct Job {
    submission: Submission,
    reply: oneshot::Sender<Result<Ingested, StoreError>>,
}

/// The handle requests use to store leads. Cheap to clone; when every clone is dropped the
/// writer finishes what it has and stops.
#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
    stats: Arc<Stats>,
    outage: Arc<Outage>,
}

/// How much sharing group commit achieved: submissions per committed batch.
#[derive(Debug, Default)]
pub struct Stats {
    pub batches: AtomicU64,
    pub submissions: AtomicU64,
}

impl Ingestor {
    /// Starts the writer. After each commit that queued new leads the router is signalled,
    /// so it starts at once.
    pub fn start(
        store: Store,
        settings: IngestSettings,
        signals: Signals,
    ) -> (Ingestor, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(settings.max_batch * 8);
        let rx = Arc::new(Mutex::new(rx));
        let stats = Arc::new(Stats::default());
        let outage = Outage::new(store.clone());
        let writers: Vec<JoinHandle<()>> = (0..settings.writers.max(1))
            .map(|_| {
                tokio::spawn(writer(
                    store.clone(),
                    settings,
                    Arc::clone(&rx),
                    signals.clone(),
                    Arc::clone(&stats),
                    Arc::clone(&outage),
                ))
            })
            .collect();
        (Ingestor { tx, stats, outage }, supervise(writers))
    }

    /// (batches committed, submissions in them) since start.
    pub fn stats(&self) -> (u64, u64) {
        (
            self.stats.batches.load(Ordering::Relaxed),
            self.stats.submissions.load(Ordering::Relaxed),
        )
    }

    /// Whether the database is known to be unreachable now (leads are refused at once).
    pub fn database_down(&self) -> bool {
        self.outage.is_down()
    }

    /// Stores one submission; returns once it is committed (or failed). While the database
    /// is known to be unreachable, fails at once with [`StoreError::Unavailable`].
    pub async fn submit(&self, submission: Submission) -> Result<Ingested, StoreError> {
        if self.outage.is_down() {
            return Err(Outage::refusal());
        }
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job { submission, reply })
            .await
            .map_err(|_| StoreError::Corrupt("the ingest writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the ingest writer dropped a request".into()))?
    }
}

/// One task for several: it ends when they all have, and panics as soon as one of them
/// does (a writer's panic is a fault the engine reports, never a join thrown away while
/// the other writers go on with fewer hands).
fn supervise(tasks: Vec<JoinHandle<()>>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut set = tokio::task::JoinSet::new();
        for t in tasks {
            set.spawn(t);
        }
        while let Some(done) = set.join_next().await {
            let inner = done.unwrap_or_else(Err);
            if let Err(e) = inner {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
    })
}

async fn writer(
    store: Store,
    settings: IngestSettings,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    signals: Signals,
    stats: Arc<Stats>,
    outage: Arc<Outage>,
) {
    let mut jobs: Vec<Job> = Vec::with_capacity(settings.max_batch);
    // One writer at a time takes what is waiting; it then commits while another takes the
    // next batch.
    while rx
        .lock()
        .await
        .recv_many(&mut jobs, settings.max_batch)
        .await
        > 0
    {
        let submissions: Vec<Submission> = jobs.iter().map(|j| j.submission.clone()).collect();
        stats.batches.fetch_add(1, Ordering::Relaxed);
        stats
            .submissions
            .fetch_add(submissions.len() as u64, Ordering::Relaxed);
        let results = match store
            .insert_leads(&submissions, settings.dedupe_window_ms)
            .await
        {
            Ok(results) => results.into_iter().map(Ok).collect(),
            // Trying each alone would only make each wait again: every request is told to
            // try again. (Were the commit to have landed with its answer lost, the source's
            // new try is found as the same lead: a repeat or a duplicate, never a second sale.)
            Err(down) if down.is_unavailable() => {
                outage.report(&down);
                jobs.iter().map(|_| Err(Outage::refusal())).collect()
            }
            Err(batch_error) => {
                // One bad submission must not fail its neighbours: retry each on its own.
                tracing::warn!(error = %batch_error, batch = jobs.len(), "batch insert failed; retrying one by one");
                let mut each = Vec::with_capacity(jobs.len());
                for s in &submissions {
                    each.push(
                        store
                            .insert_leads(std::slice::from_ref(s), settings.dedupe_window_ms)
                            .await
                            .map(|mut v| v.remove(0)),
                    );
                }
                each
            }
        };
        let any_queued = results.iter().any(|r| {
            matches!(
                r,
                Ok(Ingested::New {
                    status: leadrouter_store::leads::LeadStatus::Queued,
                    ..
                })
            )
        });
        for r in results.iter().flatten() {
            signals.metrics().received(match r {
                Ingested::New {
                    duplicate_of: Some(_),
                    ..
                } => "duplicate",
                Ingested::New { .. } => "queued",
                Ingested::Repeat { .. } => "repeat",
            });
        }
        for (job, result) in jobs.drain(..).zip(results) {
            // A request that gave up waiting is fine: its lead is stored either way.
            let _ = job.reply.send(result);
        }
        if any_queued {
            signals.leads_queued();
        }
    }
}

#[cfg(test)]
mod supervise_tests {
    use super::supervise;

    #[tokio::test]
    async fn a_panicking_task_is_reported_at_once_while_the_others_still_run() {
        let forever = tokio::spawn(std::future::pending::<()>());
        let broken = tokio::spawn(async { panic!("a writer broke") });
        let joined = tokio::time::timeout(
            std::time::Duration::from_secs(10),
            supervise(vec![forever, broken]),
        )
        .await
        .expect("reported without waiting for the task that still runs");
        assert!(joined.unwrap_err().is_panic());
    }

    #[tokio::test]
    async fn tasks_that_end_well_end_it_well() {
        let a = tokio::spawn(async {});
        let b = tokio::spawn(async {});
        supervise(vec![a, b]).await.expect("no fault");
    }
}
