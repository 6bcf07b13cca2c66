use super::*;
use crate::hours::BusinessHours;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

/// 2026-11-24 (Tuesday) 12:00 UTC = 13:00 in Berlin and Madrid.
const TUE_NOON_UTC: EpochMillis = 1_795_521_600_000;

pub(super) fn partner(id: i64, total: i64) -> Candidate {
    Candidate {
        id,
        name: format!("P{id}"),
        active: true,
        required_fields: vec![],
        valid_phone_only: false,
        business_hours: None,
        timezone: "Europe/Berlin".into(),
        daily_limit: 50,
        premium_ratio: 70,
        total,
        premium: 0,
        raw: 0,
        tried: false,
        known: false,
        filters: Vec::new(),
        weight: DEFAULT_WEIGHT,
        priority: 0,
        limits: Limits::default(),
        used: Used::default(),
        price_cents: 0,
    }
}

pub(super) fn facts<'a>(custom: &'a Map<String, Value>, lead_type: LeadType) -> LeadFacts<'a> {
    LeadFacts {
        lead_type,
        first_name: Some("John"),
        last_name: None,
        email: Some("j@example.com"),
        phone: Some("+4915112345678"),
        phone_valid: true,
        country: "germany",
        niche: "forex",
        source_label: Some("facebook_ads"),
        source_id: None,
        custom_fields: custom,
    }
}

fn hours(v: serde_json::Value) -> Option<BusinessHours> {
    Some(BusinessHours::from_json(&v).unwrap())
}

#[test]
fn each_rule_gives_its_reason() {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Premium);
    let reason = |c: Candidate| {
        eligibility(&c, &lead, TUE_NOON_UTC)
            .unwrap_err()
            .reason(&c.timezone)
    };

    assert_eq!(
        reason(Candidate {
            active: false,
            ..partner(1, 0)
        }),
        "paused"
    );
    assert_eq!(
        reason(Candidate {
            tried: true,
            ..partner(1, 0)
        }),
        "already tried for this lead"
    );
    assert_eq!(
        reason(Candidate {
            required_fields: vec!["name".into(), "lastname".into(), "amount_lost".into()],
            ..partner(1, 0)
        }),
        "lead lacks required fields: lastname, amount_lost"
    );
    assert_eq!(
        reason(Candidate {
            total: 50,
            ..partner(1, 50)
        }),
        "daily limit reached 50/50"
    );
    assert_eq!(
        reason(Candidate {
            premium: 35,
            total: 35,
            ..partner(1, 35)
        }),
        "premium quota reached 35/35"
    );
    let madrid = Candidate {
        timezone: "Europe/Madrid".into(),
        business_hours: hours(json!({"tue": ["15:00", "18:00"], "wed": ["09:00", "18:00"]})),
        ..partner(1, 0)
    };
    assert_eq!(
        reason(madrid),
        "outside business hours, opens 15:00 Europe/Madrid"
    );
    let later = Candidate {
        timezone: "Europe/Madrid".into(),
        business_hours: hours(json!({"mon": ["09:00", "12:00"]})),
        ..partner(1, 0)
    };
    assert_eq!(
        reason(later),
        "outside business hours, opens Mon 09:00 Europe/Madrid"
    );
    assert!(eligibility(&partner(1, 49), &lead, TUE_NOON_UTC).is_ok());
}

#[test]
fn required_fields_are_matched_through_aliases_and_custom_fields() {
    let custom = json!({"amount_lost": "25000", "Fraud Type": "crypto"})
        .as_object()
        .unwrap()
        .clone();
    let lead = facts(&custom, LeadType::Raw);
    let c = Candidate {
        required_fields: [
            "name",
            "email",
            "phone",
            "country",
            "amount_lost",
            "fraud_type",
            "lead_id",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        ..partner(1, 0)
    };
    assert!(eligibility(&c, &lead, TUE_NOON_UTC).is_ok());
    let c = Candidate {
        required_fields: vec!["lastname".into(), "surname".into()],
        ..partner(1, 0)
    };
    assert!(
        matches!(eligibility(&c, &lead, TUE_NOON_UTC), Err(Ineligible::MissingFields(f)) if f.len() == 2)
    );
}

#[test]
fn a_partner_taking_valid_phones_only_is_not_given_a_phone_of_an_unknown_range() {
    let custom = Map::new();
    let strict = Candidate {
        valid_phone_only: true,
        ..partner(1, 0)
    };
    let valid = facts(&custom, LeadType::Raw);
    assert!(eligibility(&strict, &valid, TUE_NOON_UTC).is_ok());
    let unknown_range = LeadFacts {
        phone: Some("+491234567890"),
        phone_valid: false,
        ..valid.clone()
    };
    let err = eligibility(&strict, &unknown_range, TUE_NOON_UTC).unwrap_err();
    assert_eq!(err.reason(&strict.timezone), "phone number not valid");
    assert!(!err.lifts_with_time());
    // Without the setting, the same lead is welcome.
    assert!(eligibility(&partner(2, 0), &unknown_range, TUE_NOON_UTC).is_ok());
}

#[test]
fn the_guides_partner_takes_35_premium_and_15_raw_a_day() {
    let custom = Map::new();
    let mut c = Candidate {
        daily_limit: 50,
        premium_ratio: 70,
        ..partner(1, 0)
    };
    let (mut premium, mut raw) = (0, 0);
    for i in 0..200 {
        let kind = if i % 2 == 0 {
            LeadType::Premium
        } else {
            LeadType::Raw
        };
        if eligibility(&c, &facts(&custom, kind), TUE_NOON_UTC).is_ok() {
            c.total += 1;
            match kind {
                LeadType::Premium => c.premium += 1,
                LeadType::Raw => c.raw += 1,
            }
            premium += i32::from(kind == LeadType::Premium);
            raw += i32::from(kind == LeadType::Raw);
        }
    }
    assert_eq!((premium, raw), (35, 15));
}

/// Berlin and Toronto change clocks on different days; hours hold in local wall time.
#[test]
fn business_hours_follow_daylight_saving_time() {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Raw);
    let weekdays = json!({"mon": ["09:00", "17:00"], "tue": ["09:00", "17:00"], "wed": ["09:00", "17:00"],
                          "thu": ["09:00", "17:00"], "fri": ["09:00", "17:00"]});
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
    let berlin = Candidate {
        timezone: "Europe/Berlin".into(),
        business_hours: hours(weekdays.clone()),
        ..partner(1, 0)
    };
    // Friday 27 March 2026, CET (UTC+1): 08:30 UTC is 09:30 local, open.
    assert!(eligibility(&berlin, &lead, at("2026-03-27T08:30:00Z")).is_ok());
    // Monday 30 March 2026, CEST (UTC+2) since Sunday: 07:30 UTC is 09:30 local, open ...
    assert!(eligibility(&berlin, &lead, at("2026-03-30T07:30:00Z")).is_ok());
    // ... and 06:30 UTC is 08:30 local: closed, though it was open at 08:30 UTC a week before.
    assert!(eligibility(&berlin, &lead, at("2026-03-30T06:30:00Z")).is_err());
    // Autumn: Monday 26 October 2026 is CET again: 15:30 UTC is 16:30 local, open.
    assert!(eligibility(&berlin, &lead, at("2026-10-26T15:30:00Z")).is_ok());
    assert!(
        eligibility(&berlin, &lead, at("2026-10-23T15:30:00Z")).is_err(),
        "Friday before: 17:30 CEST"
    );

    let toronto = Candidate {
        timezone: "America/Toronto".into(),
        business_hours: hours(weekdays),
        ..partner(2, 0)
    };
    // Monday 2 March 2026, EST (UTC-5): 13:30 UTC is 08:30 local, closed.
    assert!(eligibility(&toronto, &lead, at("2026-03-02T13:30:00Z")).is_err());
    // Monday 9 March 2026, EDT (UTC-4) since Sunday: 13:30 UTC is 09:30 local, open.
    assert!(eligibility(&toronto, &lead, at("2026-03-09T13:30:00Z")).is_ok());
    // The opening is named in local time on the DST Monday.
    let why = eligibility(&toronto, &lead, at("2026-03-09T12:30:00Z")).unwrap_err();
    assert_eq!(
        why.reason("America/Toronto"),
        "outside business hours, opens 09:00 America/Toronto"
    );
    assert_eq!(
        reconsider_at(&toronto, &why, at("2026-03-09T12:30:00Z")),
        Some(at("2026-03-09T13:00:00Z"))
    );
}

#[test]
fn each_partner_counts_its_own_day() {
    // 23:30 UTC: a new day in Berlin (00:30), still the old day in Toronto (18:30).
    let at = DateTime::parse_from_rfc3339("2026-11-24T23:30:00Z")
        .unwrap()
        .timestamp_millis();
    assert_eq!(
        crate::localtime::local_date("Europe/Berlin", at),
        "2026-11-25"
    );
    assert_eq!(
        crate::localtime::local_date("America/Toronto", at),
        "2026-11-24"
    );
    let midnight_berlin = next_local_midnight("Europe/Berlin", at - 3_600_000);
    assert_eq!(
        midnight_berlin,
        DateTime::parse_from_rfc3339("2026-11-24T23:00:00Z")
            .unwrap()
            .timestamp_millis()
    );
    assert_eq!(
        next_local_midnight("America/Toronto", at),
        DateTime::parse_from_rfc3339("2026-11-25T05:00:00Z")
            .unwrap()
            .timestamp_millis()
    );
}

#[test]
fn a_held_lead_is_reconsidered_when_the_first_partner_could_take_it() {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Raw);
    let full = partner(1, 50);
    let closed = Candidate {
        business_hours: hours(json!({"tue": ["15:00", "18:00"]})),
        ..partner(2, 0)
    };
    let p = plan(&[full, closed], &lead, TUE_NOON_UTC, || 0.5);
    assert!(p.order.is_empty());
    assert_eq!(p.explanation.len(), 2);
    // Berlin 15:00 on the same day comes before Berlin midnight.
    assert_eq!(p.reconsider_at, Some(TUE_NOON_UTC + 2 * 3_600_000));
}

#[test]
fn a_held_lead_says_why_in_the_kinds_of_its_partners_reasons() {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Raw);
    let closed = Candidate {
        business_hours: hours(json!({"tue": ["15:00", "18:00"]})),
        ..partner(2, 0)
    };
    let full_and_closed = plan(
        &[partner(1, 50), closed.clone()],
        &lead,
        TUE_NOON_UTC,
        || 0.5,
    );
    assert_eq!(
        full_and_closed.hold_reason(),
        "daily limit reached + outside business hours"
    );
    let only_closed = plan(&[closed], &lead, TUE_NOON_UTC, || 0.5);
    assert_eq!(only_closed.hold_reason(), "outside business hours");
    assert_eq!(
        plan(&[], &lead, TUE_NOON_UTC, || 0.5).hold_reason(),
        "no partner for its market"
    );
}

/// Ties are split evenly: 4 tied partners over 40,000 draws, chi-square with 3 degrees of
/// freedom below 16.27 (p = 0.001).
#[test]
fn ties_are_broken_uniformly_at_random() {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Raw);
    let tied: Vec<Candidate> = (1..=4)
        .map(|id| partner(id, 7))
        .chain([partner(5, 9)])
        .collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261124);
    let mut counts = [0u32; 5];
    let draws = 40_000;
    for _ in 0..draws {
        let p = plan(&tied, &lead, TUE_NOON_UTC, || rng.gen());
        counts[(p.order[0] - 1) as usize] += 1;
    }
    assert_eq!(counts[4], 0, "a higher count is never first");
    let expected = f64::from(draws) / 4.0;
    let chi2: f64 = counts[..4]
        .iter()
        .map(|&c| (f64::from(c) - expected).powi(2) / expected)
        .sum();
    assert!(chi2 < 16.27, "chi-square {chi2} for {counts:?}");
}

#[test]
fn a_lead_nobody_took_waits_unless_every_partner_has_had_it() {
    let plan_at = |reconsider_at| Plan {
        order: vec![],
        explanation: vec![],
        reconsider_at,
        blocked_by: Default::default(),
    };
    let tried = Candidate {
        tried: true,
        ..partner(1, 0)
    };
    let fresh = partner(2, 0);
    // Every partner has had it: failed, whatever the clock says.
    assert_eq!(
        decide(
            &plan_at(Some(5)),
            std::slice::from_ref(&tried),
            true,
            100,
            0
        ),
        Unrouted::Fail
    );
    // One partner has not had it (closed, full or paused now): wait for the first change.
    assert_eq!(
        decide(
            &plan_at(Some(50)),
            &[tried.clone(), fresh.clone()],
            true,
            100,
            0
        ),
        Unrouted::HoldUntil(50)
    );
    // Nothing will change by itself before the hold limit: wait until then.
    assert_eq!(
        decide(&plan_at(None), std::slice::from_ref(&fresh), false, 100, 0),
        Unrouted::HoldUntil(100)
    );
    let one = std::slice::from_ref(&fresh);
    assert_eq!(
        decide(&plan_at(Some(500)), one, false, 100, 0),
        Unrouted::HoldUntil(100)
    );
    // Never tried and no partner at all: it waits for a partner to be added.
    assert_eq!(
        decide(&plan_at(None), &[], false, 100, 0),
        Unrouted::HoldUntil(100)
    );
    // Its hold limit already passed (first routed late): expired now, not held until then.
    assert_eq!(
        decide(&plan_at(Some(500)), one, false, 100, 100),
        Unrouted::Expire
    );
    assert_eq!(
        decide(&plan_at(None), &[], false, 100, 250),
        Unrouted::Expire
    );
}

/// Gives `n` leads one after another to the best of `pool`, as a batch does.
fn give(pool: &mut [Candidate], n: usize, seed: u64) {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Premium);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    for _ in 0..n {
        let p = plan(pool, &lead, 0, || rng.gen::<f64>());
        let Some(first) = p.order.first().copied() else {
            break;
        };
        pool.iter_mut()
            .find(|c| c.id == first)
            .expect("a candidate")
            .count(LeadType::Premium);
    }
}

#[test]
fn weights_split_a_market_seventy_thirty() {
    for seed in 0..20 {
        let mut pool = vec![
            Candidate {
                weight: 70,
                daily_limit: 1000,
                premium_ratio: 100,
                ..partner(1, 0)
            },
            Candidate {
                weight: 30,
                daily_limit: 1000,
                premium_ratio: 100,
                ..partner(2, 0)
            },
        ];
        give(&mut pool, 100, seed);
        assert!(
            (68..=72).contains(&pool[0].total),
            "seed {seed}: {} / {}",
            pool[0].total,
            pool[1].total
        );
        assert_eq!(pool[0].total + pool[1].total, 100);
    }
}

#[test]
fn a_lower_priority_is_offered_leads_only_when_the_first_tier_is_full() {
    let mut pool = vec![
        Candidate {
            priority: 1,
            daily_limit: 1000,
            premium_ratio: 100,
            ..partner(1, 0)
        },
        Candidate {
            priority: 0,
            daily_limit: 3,
            premium_ratio: 100,
            ..partner(2, 0)
        },
        Candidate {
            priority: 0,
            daily_limit: 2,
            premium_ratio: 100,
            ..partner(3, 0)
        },
    ];
    give(&mut pool, 8, 1);
    assert_eq!(
        (pool[1].total, pool[2].total, pool[0].total),
        (3, 2, 3),
        "the first tier fills, then the next"
    );
}

#[test]
fn with_the_default_weight_and_priority_the_lowest_count_goes_first() {
    let custom = Map::new();
    let lead = facts(&custom, LeadType::Premium);
    for seed in 0..50u64 {
        let pool: Vec<Candidate> = (1..=5)
            .map(|id| Candidate {
                daily_limit: 1000,
                premium_ratio: 100,
                ..partner(id, (id * 7 + seed as i64) % 11)
            })
            .collect();
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let order = plan(&pool, &lead, 0, || rng.gen::<f64>()).order;
        let counts: Vec<i64> = order
            .iter()
            .map(|id| pool.iter().find(|c| c.id == *id).unwrap().total)
            .collect();
        let mut sorted = counts.clone();
        sorted.sort();
        assert_eq!(counts, sorted, "seed {seed}: the guide's rule");
    }
}
