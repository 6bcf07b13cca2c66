//! Postbacks to suppliers' trackers (API.md "Suppliers"): fed every second from the leads'
//! history and the conversions (a timed job), sent by the outbox runner
//! ([`crate::privacy::NoticeSender`]) as signed GETs over the guarded client, each event
//! once (`webhook-id: postback-<n>`), retried on the delivery schedule.

use crate::scheduler::Job;
use crate::signals::Signals;
use leadrouter_core::clock::EpochMillis;
use leadrouter_delivery::client::Sender;
use leadrouter_store::postbacks::{PostbackDue, PostbackOutcome};
use leadrouter_store::{Store, StoreError};
use std::time::Duration;

/// Queues the postbacks of what happened since the last look, and wakes the runner.
pub fn feed(signals: Signals) -> Job {
    Job::new(
        "feed postbacks",
        Duration::from_secs(1),
        move |store, now| {
            let signals = signals.clone();
            async move {
                // Until the history is read to its end (a busy second has more than a batch).
                let mut queued = 0;
                for _ in 0..100 {
                    let fed = store.feed_postbacks(now).await?;
                    queued += fed.queued;
                    if !fed.more {
                        break;
                    }
                }
                if queued > 0 {
                    signals.notices_queued();
                }
                Ok(())
            }
        },
    )
}

/// What sends postbacks: the outbox runner's store, clock, client, retry schedule and
/// lease.
pub(crate) struct Runner<'a> {
    pub store: &'a Store,
    pub clock: &'a dyn leadrouter_core::clock::Clock,
    pub sender: &'a Sender,
    pub schedule: &'a [Duration],
    pub lease: Duration,
}

/// Postbacks sent at once (each tracker is a different supplier's; a claim of this many
/// is sent concurrently, then the next).
const AT_ONCE: usize = 32;

/// Sends every postback due now, a claimed batch at a time, concurrently.
pub(crate) async fn drain(runner: &Runner<'_>, shutdown: &tokio_util::sync::CancellationToken) {
    while !shutdown.is_cancelled() {
        let claimed = runner
            .store
            .claim_postbacks(
                runner.clock.now_ms(),
                runner.lease.as_millis() as i64,
                AT_ONCE as i64,
            )
            .await;
        let batch = match claimed {
            Ok(batch) if !batch.is_empty() => batch,
            Ok(_) => break,
            Err(e) => {
                tracing::warn!(error = %e, "claiming postbacks failed");
                break;
            }
        };
        futures::future::join_all(batch.iter().map(|p| async move {
            let now = runner.clock.now_ms();
            if let Err(e) = send(runner.store, runner.sender, runner.schedule, p, now).await {
                tracing::warn!(postback = p.id, error = %e, "recording a postback failed; its lease brings it back");
            }
        }))
        .await;
    }
}

async fn send(
    store: &Store,
    sender: &Sender,
    schedule: &[Duration],
    p: &PostbackDue,
    now: EpochMillis,
) -> Result<(), StoreError> {
    let (source, lead) = tokio::try_join!(store.source(p.source_id), store.lead(p.lead_id))?;
    let ready = source.and_then(|s| {
        let template = s.spec.postback_url.clone()?;
        let secret = s.signing_secret.clone()?;
        Some((template, secret))
    });
    let (Some((template, secret)), Some(lead)) = (ready, lead) else {
        let why = "the source has no postback URL or signing secret now, or the lead is gone";
        return store
            .record_postback(
                p.id,
                None,
                PostbackOutcome::Failed {
                    status: None,
                    error: why,
                },
                now,
            )
            .await;
    };
    let url = template.fill(|name| match name {
        "lead_id" => Some(lead.id.to_string()),
        "event" => Some(p.event.clone()),
        "status" => Some(p.lead_status.clone()),
        "external_id" => lead.external_id.clone(),
        "payout" => Some(leadrouter_core::money::two_places(lead.cost_cents)),
        "reason" => (p.event == "rejected" || p.event == "returned").then(|| p.lead_status.clone()),
        custom => lead.custom_fields.get(custom).map(|v| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        }),
    });
    let result = sender
        .get_signed(&url, &secret, &format!("postback-{}", p.id))
        .await;
    let judged = crate::outbox::Judged::of(&result, p.attempts, schedule, now);
    let outcome = judged.outcome();
    if !matches!(outcome, PostbackOutcome::Sent { .. }) {
        tracing::warn!(postback = p.id, source_id = p.source_id, error = %judged.error, "a postback was not taken");
    }
    store.record_postback(p.id, Some(&url), outcome, now).await
}
