//! Rotating the signing secret in the portal: for 24 hours a delivery carries both `v1,`
//! signatures, so a partner verifying with either the old or the new secret (the Standard
//! Webhooks reference library) accepts it; after that only the new one does. The portal's
//! checker verifies a pasted delivery the same way. On both backends.

use crate::portal::logged_in;
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

/// Whether the reference library accepts the receiver's latest request under `secret`.
fn accepts(rx: &Receiver, secret: &str) -> bool {
    let req = rx.requests().last().cloned().expect("a delivery");
    standardwebhooks::Webhook::new(secret)
        .unwrap()
        .verify(&req.body, &req.headers)
        .is_ok()
}

both_backends! {
    async fn during_the_overlap_either_secret_verifies_and_after_it_only_the_new_one(db) {
        let clock = Arc::new(ManualClock::at(at("2026-12-01T09:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Berlin Buyers", "country": "germany", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/in")})).await;
        assert_eq!(s, 201, "{p}");
        let old = p["signing_secret"].as_str().unwrap().to_string();
        let (mut me, _) = logged_in(&app, p["id"].as_i64().unwrap(), "dev@berlin.example").await;
        let page = me.get("/portal/integration").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("webhook-signature"), "{}", page.body);
        let rotated = me.post("/portal/integration/rotate", &[("_csrf", &page.csrf())]).await;
        assert_eq!(rotated.status, 303);
        let shown = me.get("/portal/integration").await;
        let new = shown.text("code.secret-value").expect("the new secret, shown once");
        assert!(new.starts_with("whsec_") && new != old);
        assert!(me.get("/portal/integration").await.text("code.secret-value").is_none(), "only once");

        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let send = |email: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                let (s, r) = app.send_lead(&token, json!({"email": email, "country": "de", "niche": "forex"})).await;
                assert_eq!(s, 202, "{r}");
                app.run_until_idle().await;
            }
        };
        send("during@example.de").await;
        assert!(accepts(&rx, &old) && accepts(&rx, &new), "both secrets verify during the overlap");
        let signature = rx.requests().last().unwrap().headers["webhook-signature"].to_str().unwrap().to_string();
        assert_eq!(signature.split(' ').filter(|s| s.starts_with("v1,")).count(), 2, "{signature}");

        // The checker says the same of the pasted delivery.
        let req = rx.requests().last().cloned().unwrap();
        let h = |k: &str| req.headers[k].to_str().unwrap().to_string();
        let body = String::from_utf8(req.body.to_vec()).unwrap();
        let checked = me.post("/portal/integration/check", &[("_csrf", &shown.csrf()), ("body", &body),
            ("webhook_id", &h("webhook-id")), ("webhook_timestamp", &h("webhook-timestamp")), ("webhook_signature", &h("webhook-signature"))]).await;
        assert!(checked.body.contains("Verified with your current secret") && checked.body.contains("Verified with your previous secret"), "{}", checked.body);
        let tampered = me.post("/portal/integration/check", &[("_csrf", &shown.csrf()), ("body", &body.replace("during", "Xuring")),
            ("webhook_id", &h("webhook-id")), ("webhook_timestamp", &h("webhook-timestamp")), ("webhook_signature", &h("webhook-signature"))]).await;
        assert!(tampered.body.contains("Does not verify with your current secret"), "{}", tampered.body);

        // A day later the old secret no longer signs.
        clock.set(at("2026-12-02T09:30:00Z"));
        send("after@example.de").await;
        assert!(accepts(&rx, &new) && !accepts(&rx, &old), "after the overlap only the new secret verifies");
        app.stop().await;
    }
}
