//! Postbacks to suppliers' trackers (API.md "Suppliers"): fed every second from the leads'
//! history and the conversions (a timed job), sent by the outbox runner
//! ([`crate::privacy::NoticeSender`]) as signed GETs over the guarded client, each event
//! once (`webhook-id: postback-<n>`), retried on the delivery schedule.

use crate::scheduler::Job;
use crate::signals::Signals;
use leadrouter_core::postback::PostbackTemplate;
use leadrouter_core::secret::Secret;
use leadrouter_delivery::client::Sender;
use leadrouter_store::postbacks::{PostbackAttempt, PostbackDue, PostbackOutcome};
use leadrouter_store::{Store, StoreError};
use std::collections::HashMap;
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

/// Postbacks claimed and sent at once (each tracker is a different supplier's): a claim
/// of this many is sent concurrently and its outcomes recorded in one write, then the next.
const AT_ONCE: usize = 64;

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
        if let Err(e) = send_batch(runner, &batch).await {
            tracing::warn!(error = %e, "recording postbacks failed; their lease brings them back");
            break;
        }
    }
}

/// What came of sending one postback: where it went, and how it was judged (or why it
/// could not be sent).
struct Sent {
    url: Option<String>,
    judged: Result<crate::outbox::Judged, &'static str>,
}

/// Sends a claimed batch concurrently, then records every outcome in one write.
async fn send_batch(runner: &Runner<'_>, batch: &[PostbackDue]) -> Result<(), StoreError> {
    // Each source read once for the batch (usually a handful of suppliers).
    let mut ids: Vec<i64> = batch.iter().map(|p| p.source_id).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut sources = HashMap::new();
    for id in ids {
        let ready = runner.store.source(id).await?.and_then(|s| {
            let template = s.spec.postback_url.clone()?;
            let secret = s.signing_secret.clone()?;
            Some((template, secret))
        });
        sources.insert(id, ready);
    }
    let sent = futures::future::join_all(batch.iter().map(|p| {
        let ready = sources.get(&p.source_id).and_then(Option::as_ref);
        send(runner, p, ready)
    }))
    .await;
    let now = runner.clock.now_ms();
    let attempts: Vec<PostbackAttempt<'_>> = batch
        .iter()
        .zip(&sent)
        .map(|(p, s)| PostbackAttempt {
            id: p.id,
            url: s.url.clone(),
            outcome: match &s.judged {
                Ok(j) => j.outcome(),
                Err(why) => PostbackOutcome::Failed {
                    status: None,
                    error: why,
                },
            },
        })
        .collect();
    runner.store.record_postbacks(&attempts, now).await
}

async fn send(
    runner: &Runner<'_>,
    p: &PostbackDue,
    ready: Option<&(PostbackTemplate, Secret)>,
) -> Sent {
    let (Some((template, secret)), Some(lead)) = (ready, p.lead.as_ref()) else {
        return Sent {
            url: None,
            judged: Err(
                "the source has no postback URL or signing secret now, or the lead is gone",
            ),
        };
    };
    let url = template.fill(|name| match name {
        "lead_id" => Some(p.lead_id.to_string()),
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
    let result = runner
        .sender
        .get_signed(&url, secret, &format!("postback-{}", p.id))
        .await;
    let judged =
        crate::outbox::Judged::of(&result, p.attempts, runner.schedule, runner.clock.now_ms());
    if !matches!(judged.outcome(), PostbackOutcome::Sent { .. }) {
        tracing::warn!(postback = p.id, source_id = p.source_id, error = %judged.error, "a postback was not taken");
    }
    Sent {
        url: Some(url),
        judged: Ok(judged),
    }
}
