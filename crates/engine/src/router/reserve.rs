//! Reserving what was chosen, and handing it over: a batch's assignments in one guarded
//! transaction, handed to this instance's worker leased; a lead whose batch met a
//! concurrent change reserved partner after partner; a lead nobody took held, expired or
//! failed as the core decided.

use super::{candidates, Markets, Router};
use crate::dispatch::Ready;
use leadrouter_core::localtime::local_date;
use leadrouter_core::routing::batch::{decide_one, BatchLead, Decision};
use leadrouter_core::routing::{decide, Plan, Unrouted};
use leadrouter_core::status::LeadStatus;
use leadrouter_core::windows::charges;
use leadrouter_store::deliveries::ClaimedDelivery;
use leadrouter_store::leads::LeadRecord;
use leadrouter_store::partners::Partner;
use leadrouter_store::routing::{Assignment, Lease, Reservation, Reserve};
use leadrouter_store::StoreError;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

impl Router {
    /// Writes a batch's assignments in one transaction and hands them to the worker; if
    /// anything changed meanwhile, routes those leads one by one.
    pub(super) async fn assign_all(
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
            self.signals
                .metrics()
                .routed(LeadStatus::Assigned, assignments.len() as u64);
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
    /// whose batch met a concurrent change): a batch of one, decided by the same core
    /// step, then reserved partner after partner.
    pub(super) async fn route(
        &self,
        lead_id: i64,
        markets: &mut Markets,
    ) -> Result<(), StoreError> {
        let Some(lead) = self.store.lead(lead_id).await? else {
            return Ok(());
        };
        if !lead.status.routable() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let key = (lead.country.clone(), lead.niche.clone());
        if !markets.contains_key(&key) {
            markets.extend(
                self.store
                    .partners_for_markets(std::slice::from_ref(&key))
                    .await?,
            );
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
        let (counts, used) = tokio::try_join!(
            self.store.day_counts(&days),
            super::window_use(&self.store, partners.iter(), now)
        )?;
        let mut pool = candidates(partners, &counts, &used, &tried);
        let this = [(lead.id, lead.email.as_deref(), lead.phone.as_deref())];
        let known = super::known(&self.store, &this, partners.iter())
            .await?
            .remove(&lead.id)
            .unwrap_or_default();
        let one = BatchLead {
            id: lead.id,
            facts: lead.facts(),
            tried: &tried,
            known: &known,
            expires: lead.received_at + self.hold_max.as_millis() as i64,
        };
        let (mut decision, lead_type) =
            match decide_one(&one, &mut pool, now, &mut rand::random::<f64>) {
                Decision::Chosen {
                    plan, lead_type, ..
                } => (plan, lead_type),
                Decision::Unrouted { plan, what, .. } => {
                    return self.unrouted(&lead, &plan, what, now).await;
                }
            };
        // The pool counted the first choice; reservations read the counts as loaded.
        let loaded = candidates(partners, &counts, &used, &tried);
        for partner_id in decision.order.clone() {
            let Some(c) = loaded.iter().find(|c| c.id == partner_id) else {
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
                        lead_type,
                        daily_limit: c.daily_limit,
                        premium_ratio: c.premium_ratio,
                        routing: &routing,
                        from: LeadStatus::ROUTABLE,
                        override_cap: false,
                        counter_exists: counts.contains_key(&partner_id),
                        windows: &charges(&c.limits, &c.timezone, now, Some(&c.used)),
                    },
                    now,
                )
                .await?;
            match outcome {
                Reservation::Assigned { .. } => {
                    tracing::debug!(lead_id, partner_id, "lead assigned");
                    self.signals.metrics().routed(LeadStatus::Assigned, 1);
                    self.signals.delivery_due();
                    return Ok(());
                }
                Reservation::LeadGone => return Ok(()),
                Reservation::NoCapacity | Reservation::AlreadyTried => {
                    decision.capacity_taken(c, now);
                }
            }
        }
        let what = decide(&decision, &loaded, !tried.is_empty(), one.expires, now);
        self.unrouted(&lead, &decision, what, now).await
    }

    /// A lead no partner took, as the core decided: failed when every partner of the
    /// market has had it (a paused partner that has not had it may be resumed, so then it
    /// is held), expired past its hold limit, else held until time may change things.
    pub(super) async fn unrouted(
        &self,
        lead: &LeadRecord,
        decision: &Plan,
        what: Unrouted,
        now: i64,
    ) -> Result<(), StoreError> {
        let routing = json!(decision.explanation);
        match what {
            Unrouted::Fail => {
                tracing::info!(lead_id = lead.id, "no partner left for the lead");
                self.signals.metrics().routed(LeadStatus::Failed, 1);
                self.store.fail_lead(lead.id, &routing, now).await?;
            }
            Unrouted::Expire => {
                tracing::info!(lead_id = lead.id, "lead past its hold limit");
                self.signals.metrics().routed(LeadStatus::Expired, 1);
                self.store.expire_lead(lead.id, &routing, now).await?;
            }
            Unrouted::HoldUntil(route_after) => {
                self.signals.metrics().routed(LeadStatus::Held, 1);
                tracing::debug!(lead_id = lead.id, route_after, "lead held");
                self.store
                    .hold_lead(lead.id, &routing, &decision.hold_reason(), route_after, now)
                    .await?;
            }
        }
        self.signals.lead_settled(lead.id);
        Ok(())
    }
}
