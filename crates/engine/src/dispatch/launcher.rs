//! Starting sends within the shared and per-partner limits: a delivery takes its partner's
//! slot before a shared one, and waits in its partner's queue (holding no shared slot)
//! while the partner is busy, so that a slow partner never delays another's leads. Each
//! partner has as many slots as its `max_concurrency` (default generous). A partner's queue
//! here holds at most as many as its slots: more (a router's batch handed over at once) and
//! any delivery whose lease would run out before its send could end are given back to the
//! database at once, due now for the next claim, rather than left to wait out their lease.

use super::settle::Settler;
use super::{DeliveryWorker, Ready, SETTLE_MARGIN};
use leadrouter_store::deliveries::ClaimedDelivery;
use leadrouter_store::leads::LeadRecord;
use leadrouter_store::partners::Partner;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

/// Starts sends within the global and per-partner limits. A delivery whose partner has no
/// free slot waits in that partner's queue without holding a global slot, so a slow partner
/// fills only its own slots and never delays another partner's leads.
pub(crate) struct Launcher {
    pub(crate) worker: Arc<DeliveryWorker>,
    pub(crate) global: Arc<Semaphore>,
    /// Each partner's slots, and how many it has.
    pub(crate) per_partner: HashMap<i64, (Arc<Semaphore>, usize)>,
    pub(crate) waiting: HashMap<i64, VecDeque<Waiting>>,
    /// Leases to give back: `(delivery, claim)`.
    pub(crate) release: Vec<(i64, String)>,
    /// Partners with deliveries given back and not yet claimed again: what the router hands
    /// over for them goes the same way, so that they are sent oldest first.
    pub(crate) backlogged: std::collections::HashSet<i64>,
    pub(crate) in_flight: JoinSet<()>,
    pub(crate) settler: Settler,
}

/// A delivery leased to us, waiting for a slot of its partner.
pub(crate) struct Waiting {
    delivery: ClaimedDelivery,
    lead: Option<LeadRecord>,
    partner: Option<Arc<Partner>>,
}

impl Launcher {
    /// Launches a batch handed over, and every other batch already waiting.
    pub(crate) async fn launch_all(
        &mut self,
        ready: Vec<Ready>,
        more: Option<&mut mpsc::Receiver<Vec<Ready>>>,
    ) {
        let mut batches = vec![ready];
        if let Some(rx) = more {
            while let Ok(next) = rx.try_recv() {
                batches.push(next);
            }
        }
        for r in batches.into_iter().flatten() {
            if self.backlogged.contains(&r.delivery.partner_id) {
                self.release.push((r.delivery.id, r.delivery.claim));
                continue;
            }
            self.launch(r.delivery, Some(r.lead), Some(r.partner)).await;
        }
    }

    /// Sends at once if the partner has a free slot (waiting for a global one), else queues
    /// the delivery behind that partner's sends.
    pub(crate) async fn launch(
        &mut self,
        d: ClaimedDelivery,
        lead: Option<LeadRecord>,
        partner: Option<Arc<Partner>>,
    ) {
        let partner_id = d.partner_id;
        if let Some(p) = &partner {
            self.size_gate(partner_id, p.spec.concurrency() as usize);
        }
        let limit = self.limit(partner_id);
        let queue = self.waiting.entry(partner_id).or_default();
        queue.push_back(Waiting {
            delivery: d,
            lead,
            partner,
        });
        self.pump_partner(partner_id).await;
        // What its slots will not take soon goes back to the database for a later claim.
        if let Some(queue) = self.waiting.get_mut(&partner_id) {
            while queue.len() > limit {
                if let Some(w) = queue.pop_back() {
                    self.release.push((w.delivery.id, w.delivery.claim));
                    self.backlogged.insert(partner_id);
                }
            }
        }
    }

    /// A partner's slot count: its own setting, within the shared slots.
    fn limit(&self, partner_id: i64) -> usize {
        self.per_partner
            .get(&partner_id)
            .map_or(
                leadrouter_core::partner::DEFAULT_CONCURRENCY as usize,
                |(_, n)| *n,
            )
            .min(self.worker.settings.max_in_flight)
            .max(1)
    }

    /// Gives the partner `slots` slots (a changed setting takes effect for new sends; those
    /// in flight finish on the old count).
    fn size_gate(&mut self, partner_id: i64, slots: usize) {
        let slots = slots.clamp(1, self.worker.settings.max_in_flight);
        match self.per_partner.get(&partner_id) {
            Some((_, n)) if *n == slots => {}
            _ => {
                self.per_partner
                    .insert(partner_id, (Arc::new(Semaphore::new(slots)), slots));
            }
        }
    }

    fn gate(&mut self, partner_id: i64) -> Arc<Semaphore> {
        if !self.per_partner.contains_key(&partner_id) {
            self.size_gate(partner_id, self.limit(partner_id));
        }
        Arc::clone(&self.per_partner[&partner_id].0)
    }

    /// Starts what a partner's free slots allow, from the head of its queue.
    async fn pump_partner(&mut self, partner_id: i64) {
        let gate = self.gate(partner_id);
        loop {
            let Some(queue) = self.waiting.get_mut(&partner_id) else {
                return;
            };
            if queue.is_empty() {
                self.waiting.remove(&partner_id);
                return;
            }
            // The partner's slot first: a send that would wait for its partner never holds
            // one of the slots every partner shares.
            let Ok(mine) = Arc::clone(&gate).try_acquire_owned() else {
                return;
            };
            let Some(next) = queue.pop_front() else {
                return;
            };
            // Its lease would run out before its send could end: back to the database.
            let now = self.worker.clock.now_ms();
            if !time_to_send(next.delivery.lease_until, now, self.worker.settings.timeout) {
                self.release.push((next.delivery.id, next.delivery.claim));
                self.backlogged.insert(partner_id);
                continue;
            }
            let Ok(global) = Arc::clone(&self.global).acquire_owned().await else {
                return;
            };
            self.spawn(next, global, mine);
        }
    }

    /// Starts waiting deliveries of every partner that has a free slot now.
    pub(crate) async fn pump(&mut self) {
        let partners: Vec<i64> = self.waiting.keys().copied().collect();
        for p in partners {
            self.pump_partner(p).await;
        }
    }

    /// How many more deliveries a claim may bring: the shared slots less those in flight
    /// and those waiting, where each partner's queue counts up to its own slot count (a
    /// longer queue is the partner's own backlog; claims skip that partner anyway).
    pub(crate) fn room_for_claims(&self) -> usize {
        let waiting: usize = self
            .waiting
            .iter()
            .map(|(p, q)| q.len().min(self.limit(*p)))
            .sum();
        self.worker
            .settings
            .max_in_flight
            .saturating_sub(self.in_flight.len() + waiting)
            .min(self.global.available_permits())
    }

    /// Partners with a full queue here: a claim leaves their deliveries in the database
    /// for later, so that it brings deliveries other partners can take now.
    pub(crate) fn saturated(&self) -> Vec<i64> {
        self.waiting
            .iter()
            .filter(|(p, q)| q.len() >= self.limit(**p))
            .map(|(id, _)| *id)
            .collect()
    }

    /// Gives back the leases set aside (one write for all of them); they are due at once
    /// for the next claim.
    pub(crate) async fn give_back(&mut self) {
        if self.release.is_empty() {
            return;
        }
        let held = std::mem::take(&mut self.release);
        let now = self.worker.clock.now_ms();
        match self.worker.store.release_deliveries(&held, now).await {
            Ok(n) => {
                tracing::debug!(given_back = n, "leases given back for a later claim");
                self.worker.signals.delivery_due();
            }
            Err(e) => {
                tracing::warn!(error = %e, "giving leases back failed; they come back when they end");
            }
        }
    }

    fn spawn(
        &mut self,
        w: Waiting,
        global: tokio::sync::OwnedSemaphorePermit,
        mine: tokio::sync::OwnedSemaphorePermit,
    ) {
        let worker = Arc::clone(&self.worker);
        let settler = self.settler.clone();
        // An attempt is a pass of its own: until it and what follows from it (a retry
        // scheduled, a partner paused, leads failed over) are written, the engine is busy.
        let pass = worker.signals.pass();
        self.in_flight.spawn(async move {
            let _slots = (global, mine, pass);
            let d = w.delivery;
            // Checked when it left its queue; a wait for a shared slot since is short.
            if !time_to_send(d.lease_until, worker.clock.now_ms(), worker.settings.timeout) {
                tracing::debug!(delivery_id = d.id, "lease ran out while waiting; left for the next claim");
                return;
            }
            if let Err(e) = worker.deliver(&d, w.lead, w.partner, &settler).await {
                tracing::warn!(delivery_id = d.id, error = %e, "delivery bookkeeping failed; the lease will bring it back");
            }
        });
    }
}

/// Whether a send started now ends (timeout included) [`SETTLE_MARGIN`] before the lease
/// does. After that another worker may have claimed the delivery, and sending too would
/// deliver the lead twice: this one leaves it to the next claim.
pub(crate) fn time_to_send(lease_until: i64, now: i64, timeout: Duration) -> bool {
    now + (timeout + SETTLE_MARGIN).as_millis() as i64 <= lease_until
}
