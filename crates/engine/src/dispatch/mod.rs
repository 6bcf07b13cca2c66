//! The delivery worker: claims due deliveries with a lease, sends them with bounded global
//! and per-partner concurrency, records every attempt, and decides what follows (PRODUCT.md
//! §5): delivered; retried on the schedule; rejected or failed, releasing the reservation
//! so that the lead fails over; a partner paused on 410 or after too many failures in a row.

use crate::mail::Mailing;
use crate::signals::Signals;
use launcher::Launcher;
use leadrouter_core::clock::Clock;
use leadrouter_core::outcome::{judge, next_step, Attempted, Response, Step, Then};
use leadrouter_core::reply::{Reading, Reply};
use leadrouter_core::status::DeliveryStatus;
use leadrouter_core::transform::payload;
use leadrouter_delivery::client::{AttemptResult, Sender};
use leadrouter_store::deliveries::{Attempt, ClaimedDelivery, Said};
use leadrouter_store::leads::LeadRecord;
use leadrouter_store::partners::Partner;
use leadrouter_store::{Store, StoreError};
use settle::Settler;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
pub struct WorkerSettings {
    pub retry_schedule: Vec<Duration>,
    /// Per attempt; the lease is longer, so a live worker never loses its claim.
    pub timeout: Duration,
    /// Failed attempts in a row after which a partner is paused.
    pub pause_after_failures: i64,
    /// Sends in flight at once, every partner's together (each partner has its own
    /// `max_concurrency` within them).
    pub max_in_flight: usize,
    /// Longest wait for a partner's `Retry-After`.
    pub retry_after_cap: Duration,
    /// How long shutdown waits for deliveries in flight.
    pub drain_deadline: Duration,
}

/// Time left between a send's deadline and its lease end, to record the answer: a send
/// that cannot end this long before the lease does is not started (another worker could
/// claim the delivery meanwhile, and the partner would get the lead twice).
pub const SETTLE_MARGIN: Duration = Duration::from_secs(10);

impl WorkerSettings {
    /// A claim lasts the timeout, the margin to record the answer, and up to 10 s of waiting
    /// for a slot of the partner.
    pub fn lease(&self) -> Duration {
        self.timeout + SETTLE_MARGIN + Duration::from_secs(10)
    }
}

pub struct DeliveryWorker {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub sender: Sender,
    pub settings: WorkerSettings,
    pub signals: Signals,
    pub mailing: Mailing,
    /// Deliveries the router of this process created already leased to us, with what
    /// sending them needs: sent at once, without a claim or a read.
    pub handoff: Option<mpsc::Receiver<Vec<Ready>>>,
}

/// A delivery leased to this worker, with its lead and partner.
pub struct Ready {
    pub delivery: ClaimedDelivery,
    pub lead: LeadRecord,
    /// Shared by every delivery of the batch to this partner.
    pub partner: Arc<Partner>,
}

mod failures;
mod launcher;
pub mod settle;

const IDLE_POLL: Duration = Duration::from_millis(500);

/// Failed attempts in a row after which a partner is told its endpoint is failing.
const FAILING_ALERT_AFTER: i64 = 3;

impl DeliveryWorker {
    pub async fn run(mut self, shutdown: CancellationToken) {
        let mut handoff = self.handoff.take();
        let me = Arc::new(self);
        let (settler, settler_task) = Settler::start(me.store.clone());
        let mut launcher = Launcher {
            worker: Arc::clone(&me),
            global: Arc::new(Semaphore::new(me.settings.max_in_flight)),
            per_partner: HashMap::new(),
            waiting: HashMap::new(),
            release: Vec::new(),
            backlogged: Default::default(),
            in_flight: JoinSet::new(),
            settler,
        };
        let claim_id = format!("{:016x}", rand::random::<u64>());
        let mut claim_seq: u64 = 0;
        // Deliveries handed over come with their lease: no claim is needed for them.
        let mut claim = true;
        loop {
            let pass = me.signals.pass();
            while launcher.in_flight.try_join_next().is_some() {}
            launcher.pump().await;
            launcher.give_back().await;
            let free = launcher.room_for_claims();
            // Under load, claim in batches: wait until a quarter of the slots are free
            // rather than claiming one delivery per finished send.
            let room = free > 0 && free * 4 >= me.settings.max_in_flight;
            if room && claim && !shutdown.is_cancelled() {
                claim_seq += 1;
                let claim = format!("{claim_id}-{claim_seq}");
                if me.claim_and_launch(&mut launcher, free, &claim).await {
                    continue; // more may be due
                }
            }
            if shutdown.is_cancelled() {
                break;
            }
            drop(pass);
            claim = me
                .wait(&mut launcher, handoff.as_mut(), room, &shutdown)
                .await;
        }
        // Graceful shutdown: let deliveries in flight finish (and be recorded), up to a limit;
        // anything cut off is picked up again after its lease.
        let Launcher {
            mut in_flight,
            settler,
            ..
        } = launcher;
        let drain = async { while in_flight.join_next().await.is_some() {} };
        if tokio::time::timeout(me.settings.drain_deadline, drain)
            .await
            .is_err()
        {
            tracing::warn!(
                "shutdown cut deliveries off mid-flight; they will be retried after their lease"
            );
        }
        drop(settler);
        let _ = settler_task.await;
    }

    /// Sleeps until something is to be done: a send finished (when the slots are full,
    /// only that or a handoff), deliveries handed over (launched at once), a signal, the
    /// next delivery's due time, or shutdown. `false` when what woke us was a handoff,
    /// which needs no claim after it.
    async fn wait(
        &self,
        launcher: &mut Launcher,
        mut handoff: Option<&mut mpsc::Receiver<Vec<Ready>>>,
        room: bool,
        shutdown: &CancellationToken,
    ) -> bool {
        let handed = async {
            match handoff.as_deref_mut() {
                Some(rx) => rx.recv().await,
                None => std::future::pending().await,
            }
        };
        if !room && !launcher.in_flight.is_empty() {
            tokio::select! {
                _ = shutdown.cancelled() => {}
                Some(_) = launcher.in_flight.join_next() => {}
                Some(ready) = handed => {
                    launcher.launch_all(ready, handoff).await;
                    return false;
                }
            }
            return true;
        }
        let pause = crate::signals::pause_until(
            self.store.next_delivery_due().await,
            self.clock.now_ms(),
            IDLE_POLL,
        );
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = self.signals.delivery_wanted() => {}
            _ = tokio::time::sleep(pause) => {}
            Some(_) = launcher.in_flight.join_next(), if !launcher.in_flight.is_empty() => {}
            Some(ready) = handed => {
                launcher.launch_all(ready, handoff).await;
                return false;
            }
        }
        true
    }

    /// Claims up to `free` due deliveries (none of partners whose queue here is full) and
    /// launches them; `true` when the claim was full, so more may be due.
    async fn claim_and_launch(&self, launcher: &mut Launcher, free: usize, claim: &str) -> bool {
        let now = self.clock.now_ms();
        let lease = self.settings.lease().as_millis() as i64;
        let saturated = launcher.saturated();
        let claimed = match self
            .store
            .claim_deliveries_except(now, lease, free as i64, claim, &saturated)
            .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "claiming deliveries failed");
                return false;
            }
        };
        let got = claimed.len();
        if got < free {
            // Nothing more is due for the partners this claim could take: what was given
            // back for them has been claimed again.
            launcher.backlogged.retain(|p| saturated.contains(p));
        }
        // What the sends need, read once for the whole claim.
        let (mut leads, partners, claimed) = match self.prefetch(&claimed).await {
            Ok((leads, partners)) => (leads, partners, claimed),
            Err(e) => {
                tracing::warn!(error = %e, "reading claimed deliveries failed; their lease will bring them back");
                Default::default()
            }
        };
        for d in claimed {
            let lead = leads.remove(&d.lead_id);
            let partner = partners.get(&d.partner_id).cloned();
            launcher.launch(d, lead, partner).await;
        }
        got == free
    }

    /// The leads and partners of claimed deliveries, two queries for the lot.
    async fn prefetch(
        &self,
        claimed: &[ClaimedDelivery],
    ) -> Result<(HashMap<i64, LeadRecord>, HashMap<i64, Arc<Partner>>), StoreError> {
        let lead_ids: Vec<i64> = claimed.iter().map(|d| d.lead_id).collect();
        let mut partner_ids: Vec<i64> = claimed.iter().map(|d| d.partner_id).collect();
        partner_ids.sort_unstable();
        partner_ids.dedup();
        let (leads, partners) = tokio::try_join!(
            self.store.leads_by_ids(&lead_ids),
            self.store.partners_by_ids(&partner_ids)
        )?;
        let partners = partners
            .into_iter()
            .map(|(id, p)| (id, Arc::new(p)))
            .collect();
        Ok((leads, partners))
    }

    /// One attempt of one claimed delivery, start to finish.
    pub(crate) async fn deliver(
        &self,
        d: &ClaimedDelivery,
        lead: Option<LeadRecord>,
        partner: Option<Arc<Partner>>,
        settler: &Settler,
    ) -> Result<(), StoreError> {
        let (Some(lead), Some(partner)) = (lead, partner) else {
            let now = self.clock.now_ms();
            self.store
                .finish_unsuccessfully(
                    d,
                    DeliveryStatus::Failed,
                    "the lead or the partner no longer exists",
                    now,
                )
                .await?;
            self.signals.routing_changed();
            return Ok(());
        };
        let facts = lead.facts();
        let body = payload(
            &lead.id.to_string(),
            &facts,
            lead.received_at,
            &partner.spec,
        );
        let result = self
            .sender
            .send(
                &partner.spec,
                &partner.signing_secrets(self.clock.now_ms()),
                &lead.id.to_string(),
                &body,
            )
            .await;
        self.settle(d, &partner, result, settler, lead.received_at)
            .await
    }

    /// The attempt in the figures: its outcome and duration, and for a delivered lead the
    /// time from its arrival (`since_arrival_ms`) to the partner's answer.
    fn count_attempt(
        &self,
        partner_id: i64,
        step: &Step,
        r: &AttemptResult,
        since_arrival_ms: i64,
    ) {
        let m = self.signals.metrics();
        m.attempt(partner_id, step.outcome.as_str(), r.latency.as_secs_f64());
        if step.then == Then::Delivered {
            m.lead_to_partner.observe(since_arrival_ms as f64 / 1000.0);
        }
    }

    async fn settle(
        &self,
        d: &ClaimedDelivery,
        partner: &Partner,
        r: AttemptResult,
        settler: &Settler,
        received_at: i64,
    ) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let attempt_no = d.attempt_count + 1;
        let (attempted, reply) = judge(
            r.attempted,
            partner.spec.response.as_ref(),
            r.body.as_deref(),
        );
        let step = next_step(
            attempted,
            usize::try_from(attempt_no).unwrap_or(usize::MAX),
            &self.settings.retry_schedule,
            r.retry_after,
            self.settings.retry_after_cap,
            rand::random::<f64>(),
        );
        let attempt = attempt_of(attempt_no, now, &r, step.outcome, attempted, reply);
        if step.then != Then::Delivered {
            self.store.record_attempt(d, &attempt).await?;
        }
        let error = attempt.error.clone().unwrap_or_default();
        tracing::info!(
            delivery_id = d.id,
            lead_id = d.lead_id,
            partner_id = d.partner_id,
            attempt = attempt_no,
            status = r.status_code,
            latency_ms = r.latency.as_millis() as u64,
            outcome = step.outcome.as_str(),
            "delivery attempt"
        );
        self.count_attempt(partner.id, &step, &r, (now - received_at).max(0));
        match step.then {
            Then::Delivered => {
                self.signals.lead_delivered(d.lead_id, &attempt.said);
                if !settler.delivered(d.clone(), attempt, now).await? {
                    tracing::warn!(
                        delivery_id = d.id,
                        "delivered, but another worker had taken the delivery over"
                    );
                }
            }
            Then::RetryIn(delay) => {
                self.store
                    .schedule_retry(d, now + delay.as_millis() as i64, &error, now)
                    .await?;
                self.withdraw_if_paused(d, now).await?;
            }
            Then::End { status, pause } => {
                if self
                    .store
                    .finish_unsuccessfully(d, status, &error, now)
                    .await?
                {
                    self.signals.routing_changed();
                }
                if let Some(why) = pause {
                    self.pause(partner, why, now).await?;
                }
            }
        }
        if step.failure {
            let what = match (r.status_code, &r.error) {
                (Some(code), _) => format!("HTTP {code}"),
                (None, Some(e)) => e.clone(),
                (None, None) => "no answer".to_string(),
            };
            self.count_failure(partner, d.lead_id, now, &what, r.excerpt.as_deref())
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

/// The attempt as recorded: what the partner answered (or why nothing was sent), the
/// body exactly as sent, and what the answer said by the partner's `response` rules (its
/// reason is the attempt's error when a rule refused the lead or asked for a retry).
fn attempt_of(
    attempt_no: i64,
    now: i64,
    r: &AttemptResult,
    outcome: leadrouter_core::status::AttemptOutcome,
    attempted: Attempted,
    reply: Reply,
) -> Attempt {
    let error = match attempted {
        Attempted::Answer(Response::Read(Reading::Delivered)) => None,
        Attempted::Answer(Response::Read(reading)) => {
            Some(reply.reason.clone().unwrap_or_else(|| {
                format!("the partner's answer reads {reading} (its response rules)")
            }))
        }
        _ => r.error.clone(),
    };
    Attempt {
        attempt_no,
        at: now,
        status_code: r.status_code.map(i64::from),
        latency_ms: r.latency.as_millis() as i64,
        outcome,
        error,
        response_excerpt: r.excerpt.clone(),
        request_body: r.sent_body.clone(),
        said: Said {
            partner_lead_id: reply.partner_lead_id,
            redirect_url: reply.redirect_url,
            reason: reply.reason,
        },
    }
}
