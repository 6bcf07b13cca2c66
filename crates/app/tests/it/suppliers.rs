//! Suppliers (API.md "Suppliers — sources as businesses"): what a source's leads cost,
//! and its daily cap in the operator's day, on both backends.

use crate::routing::at;
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
