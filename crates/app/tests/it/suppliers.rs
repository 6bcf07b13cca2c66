//! Suppliers (API.md "Suppliers — sources as businesses"): what a source's leads cost,
//! and its daily cap in the operator's day, on both backends.

use crate::routing::at;
use crate::support::console::Console;
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

fn lead(i: usize) -> Value {
    json!({"email": format!("s{i}@example.de"), "country": "de", "niche": "forex", "external_id": format!("aff-{i}")})
}

both_backends! {
    async fn a_source_past_its_daily_cap_is_told_429_until_the_operators_next_day_and_others_are_not(db) {
        // 22:30 UTC = 23:30 in Berlin, the operator's timezone: its day ends in 30 minutes.
        let clock = Arc::new(ManualClock::at(at("2026-12-07T22:30:00Z")));
        let app = TestApp::spawn_at(db, &[("LEADROUTER_TIMEZONE", "Europe/Berlin")], clock.clone()).await;
        let (capped, token) = app.source(json!({"name": "Affiliate 7", "kind": "webhook", "daily_cap": 2, "cost_per_lead": "3.50"})).await;
        let (_, other) = app.source(json!({"name": "Media buyer", "kind": "webhook"})).await;
        let (_, s) = app.get(&format!("/api/admin/sources/{capped}")).await;
        assert_eq!((s["daily_cap"].as_i64(), s["cost_per_lead"].as_f64()), (Some(2), Some(3.5)), "{s}");
        for i in 0..2 {
            assert_eq!(app.send_lead(&token, lead(i)).await.0, 202);
        }
        let r = app.client.post(app.url(&format!("/api/webhook/{token}"))).json(&lead(2)).send().await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1800", "until 00:00 in Berlin");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited");
        assert_eq!(body["error"]["message"], "daily cap of 2 leads reached for this source");
        // The refusal is recorded with what was sent.
        let (_, rejected) = app.get("/api/admin/rejected-submissions").await;
        let rows = rejected["rejected_submissions"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "{rejected}");
        assert_eq!(rows[0]["reason"], json!({"daily_cap": "daily cap of 2 leads reached for this source"}));
        assert_eq!(rows[0]["source_id"], capped);
        assert!(rows[0]["body"].as_str().unwrap().contains("s2@example.de"));
        // A repeat of a lead it already sent is answered as a repeat, not refused.
        let (s, r) = app.send_lead(&token, lead(0)).await;
        assert_eq!((s, r["lead_id"].as_i64()), (200, Some(1)), "{r}");
        assert!(r["message"].as_str().unwrap().contains("idempotent repeat"), "{r}");
        // Another source is not affected.
        for i in 10..13 {
            assert_eq!(app.send_lead(&other, lead(i)).await.0, 202);
        }
        // The operator's next day: the source may send again.
        clock.set(at("2026-12-07T23:00:00Z"));
        assert_eq!(app.send_lead(&token, lead(3)).await.0, 202);
        // A cap of 0 or of words is named.
        let (s, e) = app.patch(&format!("/api/admin/sources/{capped}"), json!({"daily_cap": 0, "cost_per_lead": "cheap"})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["daily_cap"].is_string() && e["error"]["fields"]["cost_per_lead"].is_string(), "{e}");
        app.stop().await;
    }
}

both_backends! {
    async fn an_operator_sets_a_suppliers_cost_and_cap_on_its_page(db) {
        let app = TestApp::spawn(db).await;
        let (id, _) = app.source(json!({"name": "Affiliate 9", "kind": "webhook"})).await;
        let mut console = Console::new(&app);
        console.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = console.get(&format!("/admin/sources/{id}")).await;
        let csrf = page.csrf();
        let form = |cap: &'static str| vec![("_csrf", csrf.clone()), ("name", "Affiliate 9".to_string()),
            ("cost_per_lead", "4.20".to_string()), ("daily_cap", cap.to_string())];
        let bad: Vec<(&str, String)> = form("none");
        let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let refused = console.post(&format!("/admin/sources/{id}"), &bad).await;
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("must be a whole number of leads a day"), "{}", refused.body);
        let good: Vec<(&str, String)> = form("500");
        let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(console.post(&format!("/admin/sources/{id}"), &good).await.status, 303);
        let (_, s) = app.get(&format!("/api/admin/sources/{id}")).await;
        assert_eq!((s["daily_cap"].as_i64(), s["cost_per_lead"].as_f64()), (Some(500), Some(4.2)), "{s}");
        // Emptied: no cap, no cost.
        let cleared: Vec<(&str, String)> = vec![("_csrf", csrf.clone()), ("name", "Affiliate 9".into()), ("cost_per_lead", String::new()), ("daily_cap", String::new())];
        let cleared: Vec<(&str, &str)> = cleared.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(console.post(&format!("/admin/sources/{id}"), &cleared).await.status, 303);
        let (_, s) = app.get(&format!("/api/admin/sources/{id}")).await;
        assert_eq!((s["daily_cap"].clone(), s["cost_per_lead"].clone()), (Value::Null, Value::Null), "{s}");
        app.stop().await;
    }
}
