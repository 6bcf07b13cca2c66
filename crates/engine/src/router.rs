//! The router: routes queued leads the moment they arrive, re-routes held ones when their
//! time comes (an opening, a new partner-local day) or something changes, and expires the
//! ones held too long.
//!
//! Each lead: load the market's partners and today's counts, let the core rules order the
//! eligible ones, then try to reserve them in that order. The reservation is one guarded
//! transaction, so a race lost to another lead (or another instance) just means: next.

use crate::dispatch::Ready;
use crate::signals::Signals;
use leadrouter_core::clock::Clock;
use leadrouter_core::localtime::local_date;
use leadrouter_core::routing::{decide, plan, Candidate, Plan, Unrouted};
use leadrouter_core::source::LeadType;
use leadrouter_store::deliveries::ClaimedDelivery;
use leadrouter_store::leads::{LeadRecord, LeadStatus};
use leadrouter_store::partners::{DayCount, Partner, PartnerStatus};
use leadrouter_store::routing::{Assignment, Lease, Reservation, Reserve};
use leadrouter_store::{Store, StoreError};
use serde_json::json;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

pub struct Router {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub signals: Signals,
    pub hold_max: Duration,
    /// This process's delivery worker, when it runs: assigned leads are handed to it
    /// leased, so that it sends them at once.
    pub handoff: Option<Handoff>,
}

/// Where the router hands fresh deliveries, and for how long they are leased to it.
pub struct Handoff {
    pub tx: mpsc::Sender<Vec<Ready>>,
    pub lease: Duration,
}

/// Each market's partners, by (country, niche).
type Markets = HashMap<(String, String), Vec<Partner>>;

/// How long a claimed lead is this router's before another may take it.
const LEASE_MS: i64 = 30_000;
const CLAIM_BATCH: i64 = 256;
/// Longest sleep without looking (the fallback when nothing wakes us, e.g. a lead that
/// another instance queued).
const IDLE_POLL: Duration = Duration::from_millis(500);

impl Router {
    pub async fn run(self, shutdown: CancellationToken) {
        crate::signals::run_loop(
            &self.signals,
            &*self.clock,
            &shutdown,
            IDLE_POLL,
            || async {
                if let Err(e) = self.pass().await {
                    tracing::warn!(error = %e, "routing pass failed; trying again shortly");
                }
            },
            || self.store.next_route_due(),
            || self.signals.routing_wanted(),
        )
        .await;
    }

    /// Routes everything due now.
    pub async fn pass(&self) -> Result<(), StoreError> {
        loop {
            let ids = self
                .store
                .claim_routable(self.clock.now_ms(), LEASE_MS, CLAIM_BATCH)
                .await?;
            if ids.is_empty() {
                return Ok(());
            }
            self.route_batch(&ids).await?;
        }
    }

    /// Routes claimed leads together: reads them, the partners already tried, their markets'
    /// partners and today's counts in a few queries; decides each lead in order against
    /// counts that include the leads assigned before it; then writes all assignments in
    /// one transaction. If that transaction finds anything changed meanwhile (another
    /// instance took capacity, say), the leads are routed one by one instead.
    async fn route_batch(&self, ids: &[i64]) -> Result<(), StoreError> {
        let now = self.clock.now_ms();
        let (leads, tried) = tokio::try_join!(
            self.store.leads_by_ids(ids),
            self.store.tried_partners_of(ids)
        )?;
        let mut markets: Markets = HashMap::new();
        for lead in leads.values() {
            if let Entry::Vacant(slot) = markets.entry((lead.country.clone(), lead.niche.clone())) {
                slot.insert(self.store.partners_for(&lead.country, &lead.niche).await?);
            }
        }
        let days: HashMap<i64, String> = markets
            .values()
            .flatten()
            .map(|p| (p.id, local_date(&p.spec.timezone, now)))
            .collect();
        let keys: Vec<(i64, String)> = days.iter().map(|(id, d)| (*id, d.clone())).collect();
        let counts = self.store.day_counts(&keys).await?;
        // Each market's candidates, built once: per lead only "tried" changes, and the
        // chosen partner's count goes up, so later leads of the batch see it.
        let mut pools: HashMap<(String, String), Vec<Candidate>> = markets
            .iter()
            .map(|(key, partners)| (key.clone(), candidates(partners, &counts, &[])))
            .collect();
        let mut assignments = Vec::new();
        for lead in ids.iter().filter_map(|id| leads.get(id)) {
            let Some(pool) = pools.get_mut(&(lead.country.clone(), lead.niche.clone())) else {
                continue;
            };
            if !lead.status.routable() {
                continue;
            }
            let lead_tried = tried.get(&lead.id).map_or(&[][..], Vec::as_slice);
            match self.choose(lead, pool, lead_tried, now).await? {
                Some((c, decision, lead_type)) => assignments.push(Assignment {
                    lead_id: lead.id,
                    partner_id: c.id,
                    day: days[&c.id].clone(),
                    lead_type,
                    daily_limit: c.daily_limit,
                    premium_ratio: c.premium_ratio,
                    routing: json!(decision.explanation),
                    counter_exists: counts.contains_key(&c.id),
                }),
                None => continue,
            }
        }
        self.assign_all(&assignments, &mut markets, &leads, now)
            .await
    }

    /// Decides one lead of a batch against its market's pool; the chosen candidate is
    /// counted at once. A lead nobody can take is held or failed here.
    async fn choose<'p>(
        &self,
        lead: &LeadRecord,
        pool: &'p mut [Candidate],
        tried: &[i64],
        now: i64,
    ) -> Result<Option<(&'p Candidate, Plan, LeadType)>, StoreError> {
        for c in pool.iter_mut() {
            c.tried = tried.contains(&c.id);
        }
        let facts = lead.facts();
        let mut decision = plan(pool, &facts, now, rand::random::<f64>);
        let Some(at) = decision
            .order
            .first()
            .and_then(|p| pool.iter().position(|c| c.id == *p))
        else {
            self.hold_or_fail(lead, pool, tried, &decision, now).await?;
            return Ok(None);
        };
        decision.mark_chosen(&pool[at]);
        pool[at].count(facts.lead_type);
        Ok(Some((&pool[at], decision, facts.lead_type)))
    }

    /// Writes a batch's assignments in one transaction and hands them to the worker; if
    /// anything changed meanwhile, routes those leads one by one.
    async fn assign_all(
        &self,
        assignments: &[Assignment],
        markets: &mut Markets,
        leads: &HashMap<i64, LeadRecord>,
        now: i64,
    ) -> Result<(), StoreError> {
        if assignments.is_empty() {
            return Ok(());
        }
        let owner = format!("{:016x}", rand::random::<u64>());
        let lease = self.handoff.as_ref().map(|h| Lease {
            owner: &owner,
            until: now + h.lease.as_millis() as i64,
        });
        if let Some(deliveries) = self
            .store
            .assign_many(assignments, now, lease.as_ref())
            .await?
        {
            for a in assignments {
                tracing::debug!(
                    lead_id = a.lead_id,
                    partner_id = a.partner_id,
                    "lead assigned"
                );
            }
            self.signals.metrics().routed(
                leadrouter_core::status::LeadStatus::Assigned,
                assignments.len() as u64,
            );
            self.hand_over(assignments, deliveries, &owner, lease, markets, leads)
                .await;
            return Ok(());
        }
        for a in assignments {
            self.route(a.lead_id, markets).await?;
        }
        Ok(())
    }

    /// Gives this instance's worker the deliveries just created, leased to it, with their
    /// lead and partner (no claim, no reads); without a worker here, signals whoever sends.
    async fn hand_over(
        &self,
        assignments: &[Assignment],
        deliveries: Vec<i64>,
        owner: &str,
        lease: Option<Lease<'_>>,
        markets: &Markets,
        leads: &HashMap<i64, LeadRecord>,
    ) {
        if let (Some(handoff), Some(lease)) = (&self.handoff, lease) {
            let partners: HashMap<i64, Arc<Partner>> = markets
                .values()
                .flatten()
                .map(|p| (p.id, Arc::new(p.clone())))
                .collect();
            let ready: Vec<Ready> = assignments
                .iter()
                .zip(deliveries)
                .filter_map(|(a, id)| {
                    Some(Ready {
                        delivery: ClaimedDelivery {
                            id,
                            lead_id: a.lead_id,
                            partner_id: a.partner_id,
                            attempt_count: 0,
                            claim: owner.to_string(),
                            lease_until: lease.until,
                        },
                        lead: leads.get(&a.lead_id)?.clone(),
                        partner: Arc::clone(partners.get(&a.partner_id)?),
                    })
                })
                .collect();
            if handoff.tx.send(ready).await.is_err() {
                tracing::warn!(
                    "the delivery worker has stopped; leased deliveries wait for their lease"
                );
            }
        } else {
            self.signals.delivery_due();
        }
    }

    /// Routes one lead, reserving partners in order until one holds (the path for leads
    /// whose batch met a concurrent change).
    async fn route(&self, lead_id: i64, markets: &mut Markets) -> Result<(), StoreError> {
        let Some(lead) = self.store.lead(lead_id).await? else {
            return Ok(());
        };
        if !lead.status.routable() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let key = (lead.country.clone(), lead.niche.clone());
        if !markets.contains_key(&key) {
            let found = self.store.partners_for(&lead.country, &lead.niche).await?;
            markets.insert(key.clone(), found);
        }
        let partners = &markets[&key];
        let tried = self
            .store
            .tried_partners_of(&[lead_id])
            .await?
            .remove(&lead_id)
            .unwrap_or_default();
        let days: Vec<(i64, String)> = partners
            .iter()
            .map(|p| (p.id, local_date(&p.spec.timezone, now)))
            .collect();
        let counts = self.store.day_counts(&days).await?;
        let candidates = candidates(partners, &counts, &tried);
        let facts = lead.facts();
        let mut decision = plan(&candidates, &facts, now, rand::random::<f64>);
        for partner_id in decision.order.clone() {
            let Some(c) = candidates.iter().find(|c| c.id == partner_id) else {
                continue;
            };
            let day = &days
                .iter()
                .find(|(id, _)| *id == partner_id)
                .expect("day per partner")
                .1;
            decision.mark_chosen(c);
            let routing = json!(decision.explanation);
            let outcome = self
                .store
                .reserve(
                    &Reserve {
                        lead_id,
                        partner_id,
                        day,
                        lead_type: facts.lead_type,
                        daily_limit: c.daily_limit,
                        premium_ratio: c.premium_ratio,
                        routing: &routing,
                        from: LeadStatus::ROUTABLE,
                        override_cap: false,
                        counter_exists: counts.contains_key(&partner_id),
                    },
                    now,
                )
                .await?;
            match outcome {
                Reservation::Assigned { .. } => {
                    tracing::debug!(lead_id, partner_id, "lead assigned");
                    self.signals
                        .metrics()
                        .routed(leadrouter_core::status::LeadStatus::Assigned, 1);
                    self.signals.delivery_due();
                    return Ok(());
                }
                Reservation::LeadGone => return Ok(()),
                Reservation::NoCapacity | Reservation::AlreadyTried => {
                    decision.capacity_taken(c, now);
                }
            }
        }
        self.hold_or_fail(&lead, &candidates, &tried, &decision, now)
            .await
    }

    /// A lead no partner took: failed when every partner of the market has had it (a
    /// paused partner that has not had it may be resumed, so then it is held), else held
    /// until time may change things or it expires.
    async fn hold_or_fail(
        &self,
        lead: &LeadRecord,
        candidates: &[Candidate],
        tried: &[i64],
        decision: &Plan,
        now: i64,
    ) -> Result<(), StoreError> {
        let routing = json!(decision.explanation);
        let expires = lead.received_at + self.hold_max.as_millis() as i64;
        match decide(decision, candidates, !tried.is_empty(), expires, now) {
            Unrouted::Fail => {
                tracing::info!(lead_id = lead.id, "no partner left for the lead");
                self.signals
                    .metrics()
                    .routed(leadrouter_core::status::LeadStatus::Failed, 1);
                self.store.fail_lead(lead.id, &routing, now).await
            }
            Unrouted::Expire => {
                tracing::info!(lead_id = lead.id, "lead past its hold limit");
                self.signals
                    .metrics()
                    .routed(leadrouter_core::status::LeadStatus::Expired, 1);
                self.store.expire_lead(lead.id, &routing, now).await
            }
            Unrouted::HoldUntil(route_after) => {
                self.signals
                    .metrics()
                    .routed(leadrouter_core::status::LeadStatus::Held, 1);
                tracing::debug!(lead_id = lead.id, route_after, "lead held");
                self.store
                    .hold_lead(lead.id, &routing, &decision.hold_reason(), route_after, now)
                    .await
            }
        }
    }
}

/// The market's partners as the routing rules see them, with today's counts.
fn candidates(
    partners: &[Partner],
    counts: &HashMap<i64, DayCount>,
    tried: &[i64],
) -> Vec<Candidate> {
    partners
        .iter()
        .map(|p| {
            let c = counts.get(&p.id).copied().unwrap_or_default();
            Candidate {
                id: p.id,
                name: p.spec.name.clone(),
                active: p.status == PartnerStatus::Active,
                required_fields: p.spec.required_fields.clone(),
                valid_phone_only: p.spec.valid_phone_only,
                business_hours: p.spec.business_hours.clone(),
                timezone: p.spec.timezone.clone(),
                daily_limit: p.spec.daily_limit,
                premium_ratio: p.spec.premium_ratio,
                total: c.total,
                premium: c.premium,
                raw: c.raw,
                tried: tried.contains(&p.id),
            }
        })
        .collect()
}
