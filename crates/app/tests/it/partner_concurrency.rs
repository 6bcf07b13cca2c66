//! A partner's concurrency is its own setting, and a lead waiting behind a busy partner
//! never waits out a lease: a delivery this instance cannot send within its lease goes
//! back to the database at once and is claimed again, instead of sitting until the lease
//! ends (the 50 s stalls of a market served by one partner). On both backends.

use crate::delivery::partner;
use crate::routing::at;
use crate::support::receiver::{tls, Receiver, Reply};
use crate::support::{eventually, TestApp};
use leadrouter_core::clock::ManualClock;
use serde_json::json;
use std::sync::Arc;

both_backends! {
    async fn leads_behind_a_busy_partner_are_sent_once_it_answers_not_when_their_lease_ends(db) {
        let clock = Arc::new(ManualClock::at(at("2026-12-07T10:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[
            ("LEADROUTER_DELIVERY", "on"),
            ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"),
        ], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let gate = Arc::new(tokio::sync::Notify::new());
        rx.script(vec![Reply::Gate(200, gate.clone())]);
        rx.otherwise(Reply::Status(200));
        // One lead at a time, as this partner asks.
        let p = partner(&app, "One At A Time GmbH", &rx.url("partner.test", "/in"), json!({"max_concurrency": 1})).await;
        assert_eq!(p["max_concurrency"], 1, "{p}");
        let pid = p["id"].as_i64().unwrap();
        let (s, e) = app.patch(&format!("/api/admin/partners/{pid}"), json!({"max_concurrency": 0})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["max_concurrency"].as_str().unwrap().contains("from 1 to 256"), "{e}");
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let mut ids = Vec::new();
        for i in 0..4 {
            let (s, r) = app.send_lead(&token, json!({"email": format!("w{i}@example.de"), "country": "de", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
            ids.push(r["lead_id"].as_i64().unwrap());
        }
        // The first is at the partner, which holds its answer; the others wait their turn.
        eventually("every lead assigned, the first at the partner", || async {
            let mut assigned = 0;
            for id in &ids {
                let (_, l) = app.get(&format!("/api/admin/leads/{id}")).await;
                assigned += i32::from(l["status"] == "assigned");
            }
            (assigned == 4 && rx.requests().len() == 1).then_some(())
        }).await;
        assert_eq!(rx.requests().len(), 1, "one at a time");
        // 15 s pass before the partner answers: longer than a delivery may wait for its
        // partner within its lease (10 s), far shorter than the lease (50 s).
        clock.advance(15_000);
        gate.notify_one();
        eventually("every lead delivered without waiting out a lease", || async {
            let mut delivered = 0;
            for id in &ids {
                let (_, l) = app.get(&format!("/api/admin/leads/{id}")).await;
                delivered += i32::from(l["status"] == "delivered");
            }
            (delivered == 4).then_some(())
        }).await;
        // Each lead reached the partner once.
        let got = rx.requests();
        assert_eq!(got.len(), 4, "{got:?}");
        let mut keys: Vec<String> = got.iter().map(|r| r.headers["webhook-id"].to_str().unwrap().to_string()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 4, "no lead twice");
        app.stop().await;
    }
}
