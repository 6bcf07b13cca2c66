//! The routing order's properties over generated partners, and the edits a batch makes
//! to a plan and its candidates.

use super::tests::{facts, partner};
use super::*;
use crate::hours::BusinessHours;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use serde_json::Map;

fn arb_candidate() -> impl Strategy<Value = Candidate> {
    (
        1i64..1000,
        any::<bool>(),
        0i64..60,
        0i64..40,
        0i64..40,
        1u32..60,
        0u8..=100,
        any::<bool>(),
        prop_oneof![
            Just(None),
            (0u16..24, 1u16..12).prop_map(|(o, len)| Some((o * 60, ((o + len).min(24)) * 60)))
        ],
        prop_oneof![
            Just("Europe/Berlin"),
            Just("America/Toronto"),
            Just("Europe/London"),
            Just("UTC")
        ],
    )
        .prop_map(
            |(id, active, total, premium, raw, limit, ratio, tried, window, tz)| Candidate {
                id,
                name: format!("P{id}"),
                active,
                required_fields: vec![],
                valid_phone_only: false,
                business_hours: window.map(|(o, c)| {
                    let mut h = BusinessHours::default();
                    for d in 0..7 {
                        h.days[d] = vec![(o, c)];
                    }
                    h
                }),
                timezone: tz.into(),
                daily_limit: limit,
                premium_ratio: ratio,
                total,
                premium,
                raw,
                tried,
                known: false,
                filters: Vec::new(),
                weight: DEFAULT_WEIGHT,
                priority: 0,
                limits: Limits::default(),
                used: Used::default(),
                price_cents: 0,
            },
        )
}

proptest! {
    #[test]
    fn the_chosen_partner_is_eligible_and_has_the_lowest_count(
        // Partners have unique ids.
        candidates in prop::collection::vec(arb_candidate(), 0..12).prop_map(|mut v| {
            for (i, c) in v.iter_mut().enumerate() {
                c.id = i as i64 + 1;
                c.name = format!("P{}", c.id);
            }
            v
        }),
        premium in any::<bool>(),
        at in 1_700_000_000_000i64..1_900_000_000_000,
        seed in any::<u64>(),
    ) {
        let custom = Map::new();
        let lead = facts(&custom, if premium { LeadType::Premium } else { LeadType::Raw });
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let p = plan(&candidates, &lead, at, || rng.gen());
        let eligible: Vec<&Candidate> = candidates.iter().filter(|c| eligibility(c, &lead, at).is_ok()).collect();
        prop_assert_eq!(p.order.len(), eligible.len());
        prop_assert_eq!(p.explanation.len(), candidates.len());
        if let Some(first) = p.order.first() {
            let chosen = candidates.iter().find(|c| c.id == *first).unwrap();
            prop_assert!(eligibility(chosen, &lead, at).is_ok());
            let lowest = eligible.iter().map(|c| c.total).min().unwrap();
            prop_assert_eq!(chosen.total, lowest);
        }
        // The whole order is by count.
        let totals: Vec<i64> = p.order.iter().map(|id| candidates.iter().find(|c| c.id == *id).unwrap().total).collect();
        prop_assert!(totals.windows(2).all(|w| w[0] <= w[1]));
    }
}

/// Tuesday 24 November 2026, 12:00 UTC.
const NOON: EpochMillis = 1_795_521_600_000;

#[test]
fn capacity_lost_to_a_concurrent_lead_is_explained_and_looked_at_by_midnight() {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Raw);
    let c = Candidate {
        timezone: "Europe/Berlin".into(),
        ..partner(1, 3)
    };
    let mut p = plan(std::slice::from_ref(&c), &lead, NOON, || 0.5);
    p.mark_chosen(&c);
    assert_eq!(p.explanation[0].reason, "chosen: lowest count today (3/50)");
    p.capacity_taken(&c, NOON);
    assert!(!p.explanation[0].eligible);
    assert_eq!(
        p.explanation[0].reason,
        "capacity taken by a concurrent lead"
    );
    // Berlin's next midnight: 23:00 UTC the same day.
    assert_eq!(p.reconsider_at, Some(NOON + 11 * 3_600_000));
    // An earlier time to look again is kept.
    p.reconsider_at = Some(NOON + 1);
    p.capacity_taken(&c, NOON);
    assert_eq!(p.reconsider_at, Some(NOON + 1));
}

#[test]
fn a_counted_lead_raises_the_total_and_its_own_type() {
    let mut c = partner(1, 0);
    c.count(LeadType::Premium);
    c.count(LeadType::Raw);
    c.count(LeadType::Raw);
    assert_eq!((c.total, c.premium, c.raw), (3, 1, 2));
}
