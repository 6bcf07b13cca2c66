//! One routing pass over a batch of leads, decided without I/O: each lead, in order,
//! against its market's pool of candidates, the partner chosen for one lead counted at
//! once so that the leads after it see it. A single lead is a batch of one. What comes
//! out is a decision per lead; reserving the partner (and, later, any stage between
//! choosing and reserving) is the engine's.

use super::{decide, plan, Candidate, Plan, Unrouted};
use crate::clock::EpochMillis;
use crate::lead::{LeadFacts, LeadType};
use std::collections::HashMap;

/// A market: (country, niche).
pub type Market = (String, String);

/// A lead of the batch, as routing reads it.
pub struct BatchLead<'a> {
    pub id: i64,
    pub facts: LeadFacts<'a>,
    /// Partners that already had it (a failed or rejected delivery).
    pub tried: &'a [i64],
    /// Partners that already have its person (their known contacts).
    pub known: &'a [i64],
    /// When it stops waiting for a partner (its hold limit).
    pub expires: EpochMillis,
}

/// What one pass decided for a lead.
#[derive(Debug, Clone)]
pub enum Decision {
    /// `plan.order` lists the partners that may take it, best first; the first was
    /// counted in the pool.
    Chosen {
        lead_id: i64,
        plan: Plan,
        lead_type: LeadType,
    },
    /// No partner may take it now: held until, expired or failed, with the explanation.
    Unrouted {
        lead_id: i64,
        plan: Plan,
        what: Unrouted,
    },
}

impl Decision {
    pub fn lead_id(&self) -> i64 {
        match self {
            Decision::Chosen { lead_id, .. } | Decision::Unrouted { lead_id, .. } => *lead_id,
        }
    }
}

/// Decides each lead in order. A lead whose market has no pool here is left out (the
/// caller loads every market of the batch). `unit_random` breaks ties.
pub fn decide_batch(
    leads: &[BatchLead<'_>],
    pools: &mut HashMap<Market, Vec<Candidate>>,
    now: EpochMillis,
    mut unit_random: impl FnMut() -> f64,
) -> Vec<Decision> {
    let mut out = Vec::with_capacity(leads.len());
    for lead in leads {
        let market = (lead.facts.country.to_string(), lead.facts.niche.to_string());
        let Some(pool) = pools.get_mut(&market) else {
            continue;
        };
        out.push(decide_one(lead, pool, now, &mut unit_random));
    }
    out
}

/// One lead against its pool: the best partner is counted in the pool at once.
pub fn decide_one(
    lead: &BatchLead<'_>,
    pool: &mut [Candidate],
    now: EpochMillis,
    unit_random: &mut impl FnMut() -> f64,
) -> Decision {
    for c in pool.iter_mut() {
        c.tried = lead.tried.contains(&c.id);
        c.known = lead.known.contains(&c.id);
    }
    let mut decision = plan(pool, &lead.facts, now, &mut *unit_random);
    let chosen = decision
        .order
        .first()
        .and_then(|p| pool.iter().position(|c| c.id == *p));
    match chosen {
        Some(at) => {
            decision.mark_chosen(&pool[at]);
            pool[at].count(lead.facts.lead_type);
            Decision::Chosen {
                lead_id: lead.id,
                plan: decision,
                lead_type: lead.facts.lead_type,
            }
        }
        None => {
            let what = decide(&decision, pool, !lead.tried.is_empty(), lead.expires, now);
            Decision::Unrouted {
                lead_id: lead.id,
                plan: decision,
                what,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::tests::{facts, partner};
    use serde_json::Map;

    fn candidate(id: i64, limit: u32) -> Candidate {
        Candidate {
            daily_limit: limit,
            premium_ratio: 100,
            ..partner(id, 0)
        }
    }

    #[test]
    fn a_batch_spreads_leads_lowest_count_first_and_holds_what_no_one_can_take() {
        let custom = Map::new();
        let facts = |niche: &'static str| LeadFacts {
            niche,
            ..facts(&custom, LeadType::Premium)
        };
        let leads: Vec<BatchLead> = (0..5)
            .map(|i| BatchLead {
                id: i,
                facts: facts("forex"),
                tried: &[],
                known: &[],
                expires: i64::MAX,
            })
            .collect();
        let mut pools = HashMap::from([(
            ("germany".to_string(), "forex".to_string()),
            vec![candidate(1, 2), candidate(2, 2)],
        )]);
        let now = 1_790_000_000_000;
        let out = decide_batch(&leads, &mut pools, now, || 0.5);
        let chosen: Vec<i64> = out
            .iter()
            .filter_map(|d| match d {
                Decision::Chosen { plan, .. } => plan.order.first().copied(),
                Decision::Unrouted { .. } => None,
            })
            .collect();
        // Two partners of two a day: each gets two, alternating; the fifth waits.
        assert_eq!(chosen.len(), 4);
        assert_eq!(chosen.iter().filter(|p| **p == 1).count(), 2);
        assert!(matches!(
            out[4],
            Decision::Unrouted {
                what: Unrouted::HoldUntil(_),
                ..
            }
        ));
        // A lead of a market not loaded is left out, not guessed at.
        let other = [BatchLead {
            id: 9,
            facts: facts("crypto"),
            tried: &[],
            known: &[],
            expires: i64::MAX,
        }];
        assert!(decide_batch(&other, &mut pools, now, || 0.5).is_empty());
    }
}
