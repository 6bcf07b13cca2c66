//! The routing simulator (API.md "Partner rules"): a lead as a source would send it and an
//! optional moment → the decision and every partner's reason, by the router's own code
//! over today's real counts, writing nothing. A property test holds it to the router.

use crate::routing::{at, partner};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::sync::Arc;

/// Tuesday 1 December 2026, 13:00 UTC: 14:00 in Berlin.
const TUESDAY: &str = "2026-12-01T13:00:00Z";

async fn simulate(app: &TestApp, body: Value) -> Value {
    let (s, r) = app.post("/api/admin/routing/simulate", body).await;
    assert_eq!(s, 200, "{r}");
    r
}

/// Everything a simulation could have changed, as an operator would look at it.
async fn snapshot(app: &TestApp) -> Value {
    let (_, partners) = app.get("/api/admin/partners").await;
    let (_, leads) = app.get("/api/admin/leads?limit=200").await;
    let (_, audit) = app.get("/api/admin/audit").await;
    json!({"partners": partners["partners"].as_array().unwrap().iter()
            .map(|p| json!([p["today"], p["limits"]])).collect::<Vec<_>>(),
           "leads": leads["leads"], "audit": audit,
           "counts": format!("{:?}", app.store.lead_status_counts().await.unwrap())})
}

both_backends! {
    async fn the_simulator_shows_where_a_lead_would_go_and_why_and_writes_nothing(db) {
        let clock = Arc::new(ManualClock::at(at(TUESDAY)));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let day = partner(&app, "Day desk", json!({"daily_limit": 100, "premium_ratio": 0, "timezone": "Europe/Berlin",
            "business_hours": {"tue": ["09:00", "17:00"], "wed": ["09:00", "17:00"]}, "caps": {"hourly": 1}})).await;
        let picky = partner(&app, "Recovery", json!({"daily_limit": 100, "premium_ratio": 0,
            "filters": [{"field": "amount_lost", "op": "gte", "value": 1000}]})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let lead = json!({"email": "sim@example.de", "phone": "+49 151 12345678", "country": "de", "niche": "forex",
            "type": "raw", "amount_lost": "500"});
        let before = snapshot(&app).await;
        let r = simulate(&app, json!({"lead": lead})).await;
        assert_eq!((r["success"].as_bool(), r["decision"].as_str(), r["partner_id"].as_i64()), (Some(true), Some("assign"), Some(day)), "{r}");
        let reasons: Vec<(i64, String)> = r["routing"].as_array().unwrap().iter()
            .map(|e| (e["partner_id"].as_i64().unwrap(), e["reason"].as_str().unwrap().to_string())).collect();
        assert!(reasons.contains(&(picky, "filter: amount_lost gte 1000 (lead has 500)".into())), "{reasons:?}");
        // At another moment: 18:00 in Berlin, closed; nobody else takes it: held until it opens.
        let r = simulate(&app, json!({"lead": lead, "at": "2026-12-01T18:00:00+01:00"})).await;
        assert_eq!(r["decision"], "hold", "{r}");
        assert!(r["routing"].to_string().contains("outside business hours, opens Wed 09:00 Europe/Berlin"), "{r}");
        assert_eq!(r["held_until"], "2026-12-02T08:00:00.000Z", "{r}");
        assert_eq!(snapshot(&app).await, before, "a simulation writes nothing");
        // The real lead goes where the simulator said; then the hour's cap is full.
        let (s, sent) = app.send_lead(&token, lead.clone()).await;
        assert_eq!(s, 202);
        app.run_until_idle().await;
        let (_, l) = app.get(&format!("/api/admin/leads/{}", sent["lead_id"])).await;
        assert_eq!(l["partner_id"], day);
        let r = simulate(&app, json!({"lead": {"email": "next@example.de", "country": "de", "niche": "forex"}})).await;
        assert_eq!(r["decision"], "hold", "{r}");
        assert!(r["routing"].to_string().contains("hourly cap reached (1/1)"), "{r}");
        // Bad input is named where it is.
        let (s, e) = app.post("/api/admin/routing/simulate", json!({"lead": {"country": "de", "niche": "forex"}, "at": "tomorrow"})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["at"].is_string(), "{e}");
        let (s, e) = app.post("/api/admin/routing/simulate", json!({"lead": {"country": "de", "niche": "forex"}})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["lead.email"].is_string(), "{e}");
        let (s, e) = app.post("/api/admin/routing/simulate", json!({})).await;
        assert_eq!((s, e["error"]["fields"]["lead"].is_string()), (422, true), "{e}");
        app.stop().await;
    }
}

/// A random partner of the German forex market: limits, quotas, caps, budgets, filters,
/// hours, weights and priorities drawn from small ranges, so that they bind often.
fn random_partner(rng: &mut StdRng, i: usize) -> Value {
    let ratio = [0, 50, 100][rng.gen_range(0..3)];
    let mut p = json!({"daily_limit": rng.gen_range(3..=8), "premium_ratio": ratio,
        "timezone": "Europe/Berlin", "weight": rng.gen_range(1..=200), "priority": rng.gen_range(0..=1),
        "valid_phone_only": rng.gen_bool(0.1), "price_per_lead": 10});
    let mut caps = json!({});
    if rng.gen_bool(0.4) {
        caps["hourly"] = json!(rng.gen_range(1..=3));
    }
    if rng.gen_bool(0.4) {
        caps["total"] = json!(rng.gen_range(1..=3));
    }
    p["caps"] = caps;
    if rng.gen_bool(0.4) {
        p["budget"] = json!({"daily": rng.gen_range(2..=4) * 10});
    }
    let all = [
        json!({"field": "amount_lost", "op": "gte", "value": 1000}),
        json!({"field": "email_domain", "op": "in", "value": ["a.de", "b.de"]}),
        json!({"field": "phone_type", "op": "eq", "value": "mobile"}),
        json!({"field": "fraud_type", "op": "exists"}),
    ];
    let filters: Vec<Value> = all.into_iter().filter(|_| rng.gen_bool(0.15)).collect();
    p["filters"] = json!(filters);
    if rng.gen_bool(0.2) {
        // Closed at 14:00 on a Tuesday.
        p["business_hours"] = json!({"tue": ["15:00", "18:00"], "wed": ["09:00", "18:00"]});
    }
    p["name"] = json!(format!("Random {i}"));
    p
}

fn random_lead(rng: &mut StdRng, n: usize) -> Value {
    let domain = ["a.de", "b.de", "c.de"][rng.gen_range(0..3)];
    let mut l = json!({"email": format!("p{n}@{domain}"), "country": "de", "niche": "forex",
        "type": if rng.gen_bool(0.5) { "premium" } else { "raw" }});
    match rng.gen_range(0..3) {
        0 => l["phone"] = json!(format!("+49 151 {:08}", 10_000_000 + n)),
        1 => l["phone"] = json!(format!("+49 30 {:07}", 1_000_000 + n)),
        _ => {}
    }
    if rng.gen_bool(0.6) {
        let amount = [500, 1500][rng.gen_range(0..2)];
        l["amount_lost"] = json!(amount);
    }
    if rng.gen_bool(0.5) {
        l["fraud_type"] = json!("crypto");
    }
    l
}

/// Among the eligible of a routing explanation, the partners tied for first: the lowest
/// priority, then the lowest count for its weight.
fn best(routing: &Value, partners: &[Value]) -> Vec<i64> {
    let eligible: Vec<&Value> = routing
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["eligible"] == true)
        .map(|e| {
            partners
                .iter()
                .find(|p| p["id"] == e["partner_id"])
                .unwrap()
        })
        .collect();
    let key = |p: &Value| {
        (
            p["priority"].as_i64().unwrap(),
            p["today"]["total"].as_i64().unwrap(),
            p["weight"].as_i64().unwrap(),
        )
    };
    let Some(top) = eligible.iter().map(|p| key(p).0).min() else {
        return Vec::new();
    };
    let tier: Vec<&&Value> = eligible.iter().filter(|p| key(p).0 == top).collect();
    let lowest = tier
        .iter()
        .map(|p| key(p))
        .min_by(|a, b| (a.1 * b.2).cmp(&(b.1 * a.2)))
        .unwrap();
    tier.iter()
        .filter(|p| {
            let k = key(p);
            k.1 * lowest.2 == lowest.1 * k.2
        })
        .map(|p| p["id"].as_i64().unwrap())
        .collect()
}

/// Who decided what, with every ineligible partner's reason (the chosen one's reason is
/// the only one that may differ: a simulation does not mark a choice made).
fn ineligible(routing: &Value) -> Vec<(i64, String)> {
    let mut out: Vec<(i64, String)> = routing
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["eligible"] == false)
        .map(|e| {
            (
                e["partner_id"].as_i64().unwrap(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

both_backends! {
    async fn the_simulator_agrees_with_the_router_on_random_leads_and_partner_sets(db) {
        let clock = Arc::new(ManualClock::at(at(TUESDAY)));
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DEDUPE_WINDOW", "0")], clock.clone()).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let mut n = 0;
        let mut seen: std::collections::BTreeMap<String, usize> = Default::default();
        for seed in 0..3u64 {
            let mut rng = StdRng::seed_from_u64(seed);
            // Each seed its own market's partners: pause the previous set.
            let (_, old) = app.get("/api/admin/partners").await;
            for p in old["partners"].as_array().unwrap() {
                app.post(&format!("/api/admin/partners/{}/pause", p["id"]), json!({})).await;
            }
            for i in 0..5 {
                let body = random_partner(&mut rng, i);
                let (s, r) = app.post("/api/admin/partners", json!({"country": "germany", "niche": "forex",
                    "webhook_url": "https://fxpartners.com/api/leads"}).as_object().unwrap().clone().into_iter()
                    .chain(body.as_object().unwrap().clone()).collect::<serde_json::Map<_, _>>().into()).await;
                assert_eq!(s, 201, "seed {seed}: {r}");
            }
            // Leads held by the sets before are looked at again now, not beside the first
            // lead of this set (they would take capacity the simulation saw as free).
            app.run_until_idle().await;
            for _ in 0..25 {
                n += 1;
                let body = random_lead(&mut rng, n);
                let (_, partners) = app.get("/api/admin/partners").await;
                let partners = partners["partners"].as_array().unwrap().clone();
                let sim = simulate(&app, json!({"lead": body})).await;
                let (s, sent) = app.send_lead(&token, body.clone()).await;
                assert_eq!(s, 202, "{sent}");
                app.run_until_idle().await;
                let (_, routed) = app.get(&format!("/api/admin/leads/{}", sent["lead_id"])).await;
                let context = format!("seed {seed}, lead {body}:\nsimulated {sim}\nrouted {routed}");
                let status = routed["status"].as_str().unwrap();
                let expected = match sim["decision"].as_str().unwrap() {
                    "assign" => "assigned",
                    "hold" => "held",
                    other => other,
                };
                assert_eq!(status, if expected == "fail" { "failed" } else { expected }, "{context}");
                assert_eq!(ineligible(&sim["routing"]), ineligible(&routed["routing"]), "{context}");
                *seen.entry(status.to_string()).or_default() += 1;
                for (_, why) in ineligible(&sim["routing"]) {
                    let kind = ["filter:", "hourly cap", "total cap", "daily budget", "daily limit", "quota", "business hours", "phone"]
                        .into_iter().find(|k| why.contains(k)).unwrap_or("other");
                    *seen.entry(kind.to_string()).or_default() += 1;
                }
                if status == "assigned" {
                    let best = best(&sim["routing"], &partners);
                    assert!(best.contains(&sim["partner_id"].as_i64().unwrap()), "{context}\nbest {best:?}");
                    assert!(best.contains(&routed["partner_id"].as_i64().unwrap()), "{context}\nbest {best:?}");
                }
            }
        }
        // The random sets met every rule, and both decisions were made often.
        eprintln!("decisions and reasons met: {seen:?}");
        for kind in ["assigned", "held", "filter:", "hourly cap", "total cap", "daily budget", "daily limit", "quota", "business hours"] {
            assert!(seen.get(kind).is_some_and(|n| *n >= 2), "{kind} met too rarely: {seen:?}");
        }
        app.stop().await;
    }
}

both_backends! {
    async fn every_filter_operator_and_derived_field_lets_in_the_lead_it_should_and_names_the_one_it_keeps_out(db) {
        let app = TestApp::spawn(db).await;
        // (field, op, value, a lead's fields that meet it, fields that do not, the reason)
        let base = json!({"country": "de", "niche": "forex"});
        let cases = [
            ("fraud_type", "eq", json!("crypto"), json!({"fraud_type": "Crypto"}), json!({"fraud_type": "romance"}), "filter: fraud_type eq crypto (lead has romance)"),
            ("fraud_type", "ne", json!("crypto"), json!({"fraud_type": "forex"}), json!({"fraud_type": "crypto"}), "filter: fraud_type ne crypto (lead has crypto)"),
            ("fraud_type", "in", json!(["crypto", "forex"]), json!({"fraud_type": "forex"}), json!({"fraud_type": "romance"}), "filter: fraud_type in crypto, forex (lead has romance)"),
            ("fraud_type", "not_in", json!(["romance"]), json!({"fraud_type": "forex"}), json!({"fraud_type": "romance"}), "filter: fraud_type not_in romance (lead has romance)"),
            ("amount_lost", "gt", json!(1000), json!({"amount_lost": "1000.5"}), json!({"amount_lost": 1000}), "filter: amount_lost gt 1000 (lead has 1000)"),
            ("amount_lost", "gte", json!(1000), json!({"amount_lost": 1000}), json!({"amount_lost": "lots"}), "filter: amount_lost gte 1000 (lead has lots)"),
            ("amount_lost", "lt", json!(1000), json!({"amount_lost": 999}), json!({"amount_lost": 1000}), "filter: amount_lost lt 1000 (lead has 1000)"),
            ("amount_lost", "lte", json!(1000), json!({"amount_lost": 1000}), json!({"amount_lost": 1001}), "filter: amount_lost lte 1000 (lead has 1001)"),
            ("first_name", "contains", json!("ann"), json!({"first_name": "Joanna"}), json!({"first_name": "Maria"}), "filter: first_name contains ann (lead has Maria)"),
            ("first_name", "not_contains", json!("test"), json!({"first_name": "Maria"}), json!({"first_name": "TestUser"}), "filter: first_name not_contains test (lead has TestUser)"),
            ("last_name", "starts_with", json!("mc"), json!({"last_name": "McAllister"}), json!({"last_name": "Smith"}), "filter: last_name starts_with mc (lead has Smith)"),
            ("email", "ends_with", json!(".de"), json!({"email": "a@web.de"}), json!({"email": "a@web.at"}), "filter: email ends_with .de (lead has a@web.at)"),
            ("phone", "exists", Value::Null, json!({"phone": "+49 151 12345678"}), json!({}), "filter: phone exists (lead has none)"),
            ("amount_lost", "not_exists", Value::Null, json!({}), json!({"amount_lost": 10}), "filter: amount_lost not_exists (lead has 10)"),
            ("email_domain", "in", json!(["web.de", "gmx.de"]), json!({"email": "x@GMX.de"}), json!({"email": "x@yahoo.com"}), "filter: email_domain in web.de, gmx.de (lead has yahoo.com)"),
            ("phone_type", "eq", json!("mobile"), json!({"phone": "+49 151 12345678"}), json!({"phone": "+49 30 1234567"}), "filter: phone_type eq mobile (lead has fixed_line)"),
            ("phone_country", "eq", json!("AT"), json!({"phone": "+43 664 1234567"}), json!({"phone": "+49 151 12345678"}), "filter: phone_country eq AT (lead has DE)"),
            ("source", "eq", json!("facebook_ads"), json!({"source": "facebook_ads"}), json!({"source": "google"}), "filter: source eq facebook_ads (lead has google)"),
        ];
        let mut previous: Option<i64> = None;
        for (field, op, value, meets, fails, reason) in cases {
            if let Some(p) = previous {
                app.post(&format!("/api/admin/partners/{p}/pause"), json!({})).await;
            }
            let mut filter = json!({"field": field, "op": op});
            if !value.is_null() {
                filter["value"] = value;
            }
            let id = partner(&app, &format!("{field} {op}"), json!({"daily_limit": 100, "filters": [filter]})).await;
            previous = Some(id);
            let lead = |extra: &Value| {
                let mut l = base.clone();
                l["email"] = json!("someone@example.org");
                for (k, v) in extra.as_object().unwrap() {
                    l[k] = v.clone();
                }
                json!({"lead": l})
            };
            let r = simulate(&app, lead(&meets)).await;
            assert_eq!((r["decision"].as_str(), r["partner_id"].as_i64()), (Some("assign"), Some(id)), "{field} {op}: {r}");
            let r = simulate(&app, lead(&fails)).await;
            assert_eq!(r["decision"], "hold", "{field} {op}: {r}");
            let mine = r["routing"].as_array().unwrap().iter().find(|e| e["partner_id"] == id).unwrap().clone();
            assert_eq!(mine["reason"], reason, "{field} {op}");
        }
        app.stop().await;
    }
}
