//! The router: routes queued leads the moment they arrive, re-routes held ones when their
//! time comes (an opening, a new partner-local day) or something changes, and expires the
//! ones held too long.
//!
//! A pass claims a batch of leads and walks it in three steps, each in its own place:
//! 1. **load** (here): the leads, the partners they already had, their markets' partners
//!    (one query for all markets) and today's counts;
//! 2. **choose**: `core::routing::batch` decides each lead in order, without I/O;
//! 3. **stages** ([`stage`]): the seam between choosing and reserving, where a step with
//!    its own state and lease (an auction, a pre-check) plugs in; none today;
//! 4. **reserve and hand over** ([`reserve`]): all assignments in one guarded transaction,
//!    handed to this instance's worker; a batch that met a concurrent change is routed
//!    lead by lead, each "a batch of one" reserved partner after partner.

use crate::dispatch::Ready;
use crate::signals::Signals;
use leadrouter_core::clock::Clock;
use leadrouter_core::localtime::local_date;
use leadrouter_core::routing::batch::{decide_batch, BatchLead, Decision};
use leadrouter_core::routing::Candidate;
use leadrouter_core::windows::{charges, Used};
use leadrouter_store::leads::LeadRecord;
use leadrouter_store::partners::{DayCount, Partner, PartnerStatus};
use leadrouter_store::routing::Assignment;
use leadrouter_store::{Store, StoreError};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

mod reserve;
mod simulate;
mod stage;
pub use simulate::{simulate, Simulation};

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

/// A lead's id, e-mail and phone: what its person is known by.
pub(super) type Contact<'a> = (i64, Option<&'a str>, Option<&'a str>);

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
        let mut keys: Vec<(String, String)> = leads
            .values()
            .map(|l| (l.country.clone(), l.niche.clone()))
            .collect();
        keys.sort();
        keys.dedup();
        let mut markets: Markets = self.store.partners_for_markets(&keys).await?;
        let days: HashMap<i64, String> = markets
            .values()
            .flatten()
            .map(|p| (p.id, local_date(&p.spec.timezone, now)))
            .collect();
        let day_keys: Vec<(i64, String)> = days.iter().map(|(id, d)| (*id, d.clone())).collect();
        let (counts, used) = tokio::try_join!(
            self.store.day_counts(&day_keys),
            window_use(&self.store, markets.values().flatten(), now)
        )?;
        // (The leads' contacts are gathered only when some partner has known contacts.)
        let known = if markets.values().flatten().any(|p| p.knows_contacts) {
            let contacts: Vec<Contact> = leads
                .values()
                .map(|l| (l.id, l.email.as_deref(), l.phone.as_deref()))
                .collect();
            known(&self.store, &contacts, markets.values().flatten()).await?
        } else {
            HashMap::new()
        };
        // Each market's candidates, built once: the chosen partner's count goes up as the
        // batch is decided, so later leads see it.
        let mut pools: HashMap<(String, String), Vec<Candidate>> = markets
            .iter()
            .map(|(key, partners)| (key.clone(), candidates(partners, &counts, &used, &[])))
            .collect();
        let expires = |l: &LeadRecord| l.received_at + self.hold_max.as_millis() as i64;
        let batch: Vec<BatchLead> = ids
            .iter()
            .filter_map(|id| leads.get(id))
            .filter(|l| l.status.routable())
            .map(|l| BatchLead {
                id: l.id,
                facts: l.facts(),
                tried: tried.get(&l.id).map_or(&[][..], Vec::as_slice),
                known: known.get(&l.id).map_or(&[][..], Vec::as_slice),
                expires: expires(l),
            })
            .collect();
        let decisions = decide_batch(&batch, &mut pools, now, rand::random::<f64>);
        let by_id: HashMap<i64, &Partner> = markets.values().flatten().map(|p| (p.id, p)).collect();
        let decisions = self.stages(decisions, &leads).await?;
        let mut assignments = Vec::new();
        for decision in decisions {
            let Some(lead) = leads.get(&decision.lead_id()) else {
                continue;
            };
            match decision {
                Decision::Chosen {
                    plan, lead_type, ..
                } => {
                    let Some(partner) = plan.order.first().and_then(|id| by_id.get(id)) else {
                        continue;
                    };
                    assignments.push(Assignment {
                        lead_id: lead.id,
                        partner_id: partner.id,
                        day: days[&partner.id].clone(),
                        lead_type,
                        daily_limit: partner.spec.daily_limit,
                        premium_ratio: partner.spec.premium_ratio,
                        routing: json!(plan.explanation),
                        counter_exists: counts.contains_key(&partner.id),
                        windows: charges(
                            &partner.spec.limits(),
                            &partner.spec.timezone,
                            now,
                            used.get(&partner.id),
                        ),
                    });
                }
                Decision::Unrouted { plan, what, .. } => {
                    self.unrouted(lead, &plan, what, now).await?;
                }
            }
        }
        self.assign_all(&assignments, &mut markets, &leads, now)
            .await
    }
}

/// Which of `partners` already have each lead's person: looked up only for partners that
/// have any known contact (none have, most of the time: no query then).
pub(super) async fn known<'a>(
    store: &Store,
    leads: &[Contact<'_>],
    partners: impl Iterator<Item = &'a Partner>,
) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let knowing: Vec<i64> = partners
        .filter(|p| p.knows_contacts)
        .map(|p| p.id)
        .collect();
    if knowing.is_empty() {
        return Ok(HashMap::new());
    }
    store.partners_knowing(leads, &knowing).await
}

/// What the windows of the caps and budgets of `partners` have taken at `now` (asked only
/// for partners that have any: none, most of the time, and then no query).
pub async fn window_use<'a>(
    store: &Store,
    partners: impl Iterator<Item = &'a Partner>,
    now: i64,
) -> Result<HashMap<i64, Used>, StoreError> {
    let keys: Vec<(i64, Vec<String>)> = partners
        .filter(|p| !p.spec.limits().is_empty())
        .map(|p| {
            let keys = charges(&p.spec.limits(), &p.spec.timezone, now, None)
                .into_iter()
                .map(|c| c.key)
                .collect();
            (p.id, keys)
        })
        .collect();
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    store.window_use(&keys).await
}

/// The market's partners as the routing rules see them, with today's counts and what
/// their caps' and budgets' windows have taken.
fn candidates(
    partners: &[Partner],
    counts: &HashMap<i64, DayCount>,
    used: &HashMap<i64, Used>,
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
                known: false,
                filters: p.spec.filters.clone(),
                weight: p.spec.weight,
                priority: p.spec.priority,
                limits: p.spec.limits(),
                used: used.get(&p.id).copied().unwrap_or_default(),
                price_cents: p.spec.price_per_lead_cents.unwrap_or(0),
            }
        })
        .collect()
}
