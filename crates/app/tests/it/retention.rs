//! Retention with the manual clock: an attempt's response excerpt and the body it sent are
//! cleared once older than `LEADROUTER_ATTEMPT_BODY_RETENTION` (a day past: cleared; a day
//! inside: kept), the attempt itself (time, status, latency) stays. On both backends.

use crate::support::receiver::{tls, Receiver};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::json;
use std::sync::Arc;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

async fn bodies(app: &TestApp, lead: i64) -> (Option<String>, Option<String>, Option<i64>) {
    let d = app.store.lead_deliveries(lead).await.unwrap();
    let a = app.store.delivery_attempts(d[0].id).await.unwrap();
    (
        a[0].response_excerpt.clone(),
        a[0].request_body.clone(),
        a[0].status_code,
    )
}

both_backends! {
    async fn attempt_bodies_are_cleared_a_day_past_the_window_and_kept_a_day_inside(db) {
        let clock = Arc::new(ManualClock::at(at("2026-10-01T10:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"), ("LEADROUTER_ATTEMPT_BODY_RETENTION", "30d")], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (s, _) = app.post("/api/admin/partners", json!({"name": "P", "country": "germany", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/in")})).await;
        assert_eq!(s, 201);
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let mut leads = Vec::new();
        for (when, email) in [("2026-10-01T10:00:00Z", "old@example.de"), ("2026-10-03T10:00:00Z", "new@example.de")] {
            clock.set(at(when));
            let (s, r) = app.send_lead(&token, json!({"email": email, "country": "de", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
            app.run_until_idle().await;
            leads.push(r["lead_id"].as_i64().unwrap());
        }
        let (excerpt, sent, _) = bodies(&app, leads[0]).await;
        assert!(excerpt.is_some() && sent.as_deref().unwrap_or_default().contains("old@example.de"));
        // 31 days after the first, 29 after the second.
        clock.set(at("2026-11-01T10:00:00Z"));
        app.run_until_idle().await;
        assert_eq!(bodies(&app, leads[0]).await, (None, None, Some(200)), "a day past the window: cleared");
        let (excerpt, sent, _) = bodies(&app, leads[1]).await;
        assert!(excerpt.is_some() && sent.is_some(), "a day inside: kept");
        // Only in the lead itself (and the search index's words of it, which go with it).
        let mut left = app.store.text_containing_for_tests("old@example.de").await;
        left.retain(|column| column != "lead_search.words");
        assert_eq!(left, vec!["leads.email".to_string()]);
        app.stop().await;
    }
}
