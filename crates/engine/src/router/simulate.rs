//! The routing simulator (API.md "Partner rules"): where a lead would go at a moment and
//! why, by the router's own steps — the market's partners, their counts and windows as
//! stored, the known contacts, the core's decision for a batch of one — writing nothing.

use super::{candidates, known, window_use, Contact};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::localtime::local_date;
use leadrouter_core::routing::batch::{decide_one, BatchLead, Decision};
use leadrouter_core::routing::{Considered, LeadFacts, Unrouted};
use leadrouter_store::{Store, StoreError};
use std::time::Duration;

/// What the router would do with a lead.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// `assign`, `hold` or `fail`.
    pub decision: &'static str,
    /// The partner it would be given to.
    pub partner_id: Option<i64>,
    /// Every partner of its market and its reason, as on a lead.
    pub routing: Vec<Considered>,
    /// Until when it would be held.
    pub held_until: Option<EpochMillis>,
}

/// Decides `lead` as a new lead arriving at `at` (no partner has tried it yet), over the
/// counts stored for the partners' days and windows at `at`. Reads only.
pub async fn simulate(
    store: &Store,
    lead: &LeadFacts<'_>,
    at: EpochMillis,
    hold_max: Duration,
) -> Result<Simulation, StoreError> {
    let key = (lead.country.to_string(), lead.niche.to_string());
    let partners = store
        .partners_for_markets(std::slice::from_ref(&key))
        .await?
        .remove(&key)
        .unwrap_or_default();
    let days: Vec<(i64, String)> = partners
        .iter()
        .map(|p| (p.id, local_date(&p.spec.timezone, at)))
        .collect();
    let (counts, used) = tokio::try_join!(
        store.day_counts(&days),
        window_use(store, partners.iter(), at)
    )?;
    let contact: [Contact; 1] = [(0, lead.email, lead.phone)];
    let known = known(store, &contact, partners.iter())
        .await?
        .remove(&0)
        .unwrap_or_default();
    let mut pool = candidates(&partners, &counts, &used, &[]);
    let one = BatchLead {
        id: 0,
        facts: lead.clone(),
        tried: &[],
        known: &known,
        expires: at + hold_max.as_millis() as i64,
    };
    Ok(
        match decide_one(&one, &mut pool, at, &mut rand::random::<f64>) {
            Decision::Chosen { plan, .. } => Simulation {
                decision: "assign",
                partner_id: plan.order.first().copied(),
                routing: plan.explanation,
                held_until: None,
            },
            Decision::Unrouted { plan, what, .. } => Simulation {
                decision: match what {
                    Unrouted::HoldUntil(_) => "hold",
                    Unrouted::Fail | Unrouted::Expire => "fail",
                },
                partner_id: None,
                held_until: match what {
                    Unrouted::HoldUntil(t) => Some(t),
                    _ => None,
                },
                routing: plan.explanation,
            },
        },
    )
}
