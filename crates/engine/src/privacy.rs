//! Erasure: of a person on request (every partner that received one of their leads is
//! told by mail and, when it has an erasure webhook, by a signed `lead.erased` POST), and
//! of leads past the retention window (nobody is told). The notices to erasure webhooks
//! are sent by a timed job through the same SSRF-guarded client as deliveries, with the
//! same retry schedule.

use crate::mail::{self};
use crate::scheduler::Job;
use crate::signals::Signals;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::erasure::{erased_notice_body, Erasure};
use leadrouter_core::partner::ContentType;
use leadrouter_delivery::client::Sender;
use leadrouter_store::erasure::{Notices, ERASE_BATCH};
use leadrouter_store::erasure_notices::{ErasureNotice, NoticeOutcome};
use leadrouter_store::{Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

/// What an erasure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Erased {
    pub erased_leads: usize,
    pub notified_partners: usize,
    /// Partners that received one of the leads but have neither an e-mail address nor an
    /// erasure webhook (or were deleted since): the operator must tell them.
    pub unnotified_partners: usize,
}

/// Erases every lead of this person, batch by batch, with the notices to the partners
/// that received them; then the refused submissions and mails that carry the contact.
pub async fn erase_person(
    store: &Store,
    signals: &Signals,
    who: &Erasure,
    now: EpochMillis,
    actor: &leadrouter_store::audit::Actor,
) -> Result<Erased, StoreError> {
    let ids = store
        .leads_of_contact(who.email.as_deref(), who.phone.as_deref())
        .await?;
    let mut done = Erased::default();
    let (mut notified, mut untold) = (BTreeSet::new(), BTreeSet::new());
    for batch in ids.chunks(ERASE_BATCH) {
        let recipients = store.lead_recipients(batch).await?;
        let partner_ids: Vec<i64> = recipients.keys().copied().collect();
        let partners = store.partners_by_ids(&partner_ids).await?;
        let mut notices = Notices::default();
        for (partner_id, leads) in &recipients {
            let Some(p) = partners.get(partner_id) else {
                untold.insert(*partner_id); // deleted since
                continue;
            };
            let mut told = false;
            if let Some(m) = mail::erasure_notice(*partner_id, &p.spec, leads, now) {
                notices.mails.push(m);
                told = true;
            }
            if p.spec.erasure_webhook_url.is_some() {
                notices
                    .webhooks
                    .push((*partner_id, erased_notice_body(leads, now).to_string()));
                told = true;
            }
            if told {
                notified.insert(*partner_id);
            } else {
                untold.insert(*partner_id);
            }
        }
        done.erased_leads += store.erase_leads(batch, &notices, now).await?;
    }
    store
        .erase_contact_texts(who.email.as_deref(), who.phone.as_deref())
        .await?;
    store.settle_erasure().await?;
    done.notified_partners = notified.len();
    done.unnotified_partners = untold.len();
    tracing::info!(
        erased = done.erased_leads,
        partners = done.notified_partners,
        "a person's leads were erased"
    );
    signals.mail_queued();
    signals.notices_queued();
    signals.routing_changed();
    // The entry names how many leads, never the person (that would keep what was erased).
    let change = leadrouter_store::audit::Change::new("erase", "lead", None)
        .field(
            "erased_leads",
            serde_json::Value::Null,
            serde_json::json!(done.erased_leads),
        )
        .field(
            "notified_partners",
            serde_json::Value::Null,
            serde_json::json!(done.notified_partners),
        );
    store.record_audit(actor, &change, now).await?;
    Ok(done)
}

/// Erases leads received longer than `keep` ago (`LEADROUTER_RETENTION`) and clears the
/// bodies of submissions refused as long ago, in batches of their own transactions.
pub fn retention(keep: Duration) -> Job {
    let keep_ms = keep.as_millis() as i64;
    Job::new(
        "erase leads past retention",
        Duration::from_secs(60),
        move |store, now| async move {
            let before = now - keep_ms;
            let mut erased = 0;
            loop {
                let (ids, last) = store
                    .leads_past_retention(before, ERASE_BATCH as i64)
                    .await?;
                erased += store.erase_leads(&ids, &Notices::default(), now).await?;
                if let Some(at) = last {
                    store.set_retention_cursor(at).await?;
                }
                if ids.len() < ERASE_BATCH {
                    break;
                }
            }
            let cleared = in_batches(500, |n| store.clear_old_rejections(before, n)).await?;
            if erased + cleared as usize > 0 {
                store.settle_erasure().await?;
                tracing::info!(erased, cleared, "leads past retention erased");
            }
            Ok(())
        },
    )
}

/// Runs `batch` (which changes at most `size` rows and says how many) until a batch comes
/// back short; returns how many rows changed in all.
async fn in_batches<F, Fut>(size: i64, mut batch: F) -> Result<u64, StoreError>
where
    F: FnMut(i64) -> Fut,
    Fut: std::future::Future<Output = Result<u64, StoreError>>,
{
    let mut total = 0;
    loop {
        let n = batch(size).await?;
        total += n;
        if n < size as u64 {
            return Ok(total);
        }
    }
}

/// Forgets erased leads' keyed contact hashes once they are older than the dedupe window
/// (`LEADROUTER_DEDUPE_WINDOW`; with dedupe off, at once): kept only while they serve.
pub fn forget_contact_hashes(dedupe_window: Duration) -> Job {
    let window_ms = dedupe_window.as_millis() as i64;
    Job::new(
        "forget old contact hashes",
        Duration::from_secs(300),
        move |store, now| async move {
            let forgotten =
                in_batches(500, |n| store.forget_contact_hashes(now - window_ms, n)).await?;
            if forgotten > 0 {
                tracing::info!(
                    forgotten,
                    "erased leads' contact hashes past the dedupe window dropped"
                );
            }
            Ok(())
        },
    )
}

/// The outbox runner: sends due `lead.erased` notices to partners' erasure webhooks and
/// due postbacks to suppliers' trackers ([`crate::postbacks`]), on the queues' one loop
/// ([`crate::signals::run_loop`]): each claimed with a lease (so instances sharing a
/// database do not both send it), sent signed over the guarded client, retried on the
/// delivery schedule.
pub struct NoticeSender {
    pub store: Store,
    pub clock: Arc<dyn leadrouter_core::clock::Clock>,
    pub sender: Sender,
    pub schedule: Vec<Duration>,
    pub signals: Signals,
    /// How long a claimed notice is this sender's (longer than a send can take).
    pub lease: Duration,
}

/// Polling fallback when nothing wakes the sender (another instance's erasure).
const NOTICE_POLL: Duration = Duration::from_secs(5);

impl NoticeSender {
    pub async fn run(self, shutdown: tokio_util::sync::CancellationToken) {
        crate::signals::run_loop(
            &self.signals,
            &*self.clock,
            &shutdown,
            NOTICE_POLL,
            || self.drain(&shutdown),
            || async {
                // The sooner of the next erasure notice and the next postback.
                let (a, b) = tokio::try_join!(
                    self.store.next_erasure_notice_due(),
                    self.store.next_postback_due()
                )?;
                Ok(a.into_iter().chain(b).min())
            },
            || self.signals.notices_wanted(),
        )
        .await;
    }

    /// Sends every notice and every postback due now.
    async fn drain(&self, shutdown: &tokio_util::sync::CancellationToken) {
        self.drain_notices(shutdown).await;
        let runner = crate::postbacks::Runner {
            store: &self.store,
            clock: &*self.clock,
            sender: &self.sender,
            schedule: &self.schedule,
            lease: self.lease,
        };
        crate::postbacks::drain(&runner, shutdown).await;
    }

    async fn drain_notices(&self, shutdown: &tokio_util::sync::CancellationToken) {
        crate::signals::drain_each(
            shutdown,
            "erasure notices",
            || {
                self.store.claim_erasure_notice(
                    self.clock.now_ms(),
                    self.lease.as_millis() as i64,
                )
            },
            |n| async move {
                let now = self.clock.now_ms();
                if let Err(e) =
                    send_notice(&self.store, &self.sender, &self.schedule, &n, now).await
                {
                    tracing::warn!(notice = n.id, error = %e, "recording an erasure notice failed; its lease brings it back");
                }
            },
        )
        .await;
    }
}

async fn send_notice(
    store: &Store,
    sender: &Sender,
    schedule: &[Duration],
    n: &ErasureNotice,
    now: EpochMillis,
) -> Result<(), StoreError> {
    let partner = store.partner(n.partner_id).await?;
    let Some((p, url)) = partner.and_then(|p| {
        let url = p.spec.erasure_webhook_url.clone()?;
        Some((p, url))
    }) else {
        let why = "the partner is gone or has no erasure webhook now";
        return store
            .record_erasure_notice(
                n.id,
                NoticeOutcome::Failed {
                    status: None,
                    error: why,
                },
                now,
            )
            .await;
    };
    let to = leadrouter_delivery::client::Destination {
        url: &url,
        content_type: ContentType::Json,
        auth: p.spec.auth.as_ref(),
    };
    let body: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&n.body).unwrap_or_default();
    let msg_id = format!("erasure-{}", n.id);
    let result = sender
        .post_signed(&to, &p.signing_secrets(now), &msg_id, &body)
        .await;
    let judged = crate::outbox::Judged::of(&result, n.attempts, schedule, now);
    let outcome = judged.outcome();
    if !matches!(outcome, NoticeOutcome::Sent { .. }) {
        tracing::warn!(notice = n.id, partner_id = n.partner_id, error = %judged.error, "an erasure notice was not taken");
    }
    store.record_erasure_notice(n.id, outcome, now).await
}
