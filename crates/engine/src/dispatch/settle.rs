//! Group commit for delivered leads: every successful attempt finishing at about the same
//! time is recorded in one transaction (attempt, delivery, lead, history, the partner's
//! failure streak), as ingest does for arriving leads. Each sender waits for its commit.

use leadrouter_core::clock::EpochMillis;
use leadrouter_store::deliveries::{Attempt, ClaimedDelivery};
use leadrouter_store::{Store, StoreError};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

/// Most deliveries recorded in one transaction.
const MAX_BATCH: usize = 256;

struct Job {
    delivery: ClaimedDelivery,
    attempt: Attempt,
    now: EpochMillis,
    reply: oneshot::Sender<Result<bool, StoreError>>,
}

/// The handle senders use; the task stops once every clone is dropped.
#[derive(Clone)]
pub struct Settler {
    tx: mpsc::Sender<Job>,
}

impl Settler {
    pub fn start(store: Store) -> (Settler, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(MAX_BATCH * 4);
        (Settler { tx }, tokio::spawn(run(store, rx)))
    }

    /// Records a successful attempt; `false` if the claim was lost to another worker (then
    /// only the attempt is recorded).
    pub async fn delivered(
        &self,
        delivery: ClaimedDelivery,
        attempt: Attempt,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job {
                delivery,
                attempt,
                now,
                reply,
            })
            .await
            .map_err(|_| StoreError::Corrupt("the delivery recorder has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Corrupt("the delivery recorder dropped a delivery".into()))?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut jobs = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let now = jobs.iter().map(|j| j.now).max().unwrap_or_default();
        let batch: Vec<(&ClaimedDelivery, &Attempt)> =
            jobs.iter().map(|j| (&j.delivery, &j.attempt)).collect();
        let results: Vec<Result<bool, StoreError>> = match store
            .attempts_delivered(&batch, now)
            .await
        {
            Ok(won) => won.into_iter().map(Ok).collect(),
            Err(e) => {
                // One bad row must not fail the others: each on its own.
                tracing::warn!(error = %e, batch = batch.len(), "recording deliveries failed; recording one by one");
                let mut each = Vec::with_capacity(batch.len());
                for (d, a) in &batch {
                    each.push(store.attempt_delivered(d, a, now).await);
                }
                each
            }
        };
        for (job, result) in jobs.drain(..).zip(results) {
            tracing::debug!(
                lead_id = job.delivery.lead_id,
                delivery_id = job.delivery.id,
                recorded = result.is_ok(),
                "delivery recorded as delivered"
            );
            let _ = job.reply.send(result);
        }
    }
}
