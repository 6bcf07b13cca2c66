//! A pause (automatic after failures, or an operator's) loses no lead: the leads waiting
//! for the partner's retries go back to routing, to another partner if one can take them,
//! else held with the reason, and after Resume they go to the partner like every held
//! lead. A delivery the pause ended was not the partner's try.

use crate::delivery::{delivering, partner};
use crate::support::receiver::{Receiver, Reply};
use serde_json::json;

both_backends! {
    async fn the_leads_waiting_for_a_paused_partner_are_held_and_delivered_after_resume(db) {
        let app = delivering(db, &[("LEADROUTER_PAUSE_AFTER_FAILURES", "2")]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(500));
        let p = partner(&app, "Only FX", &rx.url("partner.test", "/in"), json!({"email": "ops@onlyfx.example"})).await;
        let pid = p["id"].as_i64().unwrap();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let mut ids = Vec::new();
        for i in 0..2 {
            let (s, r) = app.send_lead(&token, json!({"email": format!("p{i}@example.de"), "country": "de", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
            ids.push(r["lead_id"].as_i64().unwrap());
        }
        // Two failures in a row pause the only partner of the market.
        crate::support::eventually("paused", || async {
            (app.get(&format!("/api/admin/partners/{pid}")).await.1["status"] == "paused").then_some(())
        }).await;
        app.run_until_idle().await;
        for id in &ids {
            let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
            assert_eq!(lead["status"], "held", "not failed: {lead}");
            let history = lead["history"].to_string();
            assert!(!history.contains("no partner left"), "{history}");
        }
        // The mail to the partner says what really happens to its leads.
        let (_, mails) = app.get("/api/admin/notifications?kind=partner_paused").await;
        let text = mails["notifications"][0]["text"].as_str().unwrap().to_string();
        assert!(text.contains("held for you") && !text.contains("go to other partners meanwhile"), "{text}");
        // The endpoint is mended; Resume sends both, to the same partner.
        rx.otherwise(Reply::Status(200));
        assert_eq!(app.post(&format!("/api/admin/partners/{pid}/resume"), json!({})).await.0, 200);
        app.run_until_idle().await;
        for id in &ids {
            let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
            assert_eq!(lead["status"], "delivered", "{lead}");
            assert_eq!(lead["partner_id"], pid);
            let deliveries = lead["deliveries"].as_array().unwrap();
            assert_eq!(deliveries.len(), 1, "one delivery per lead and partner: {lead}");
            assert_eq!(deliveries[0]["status"], "delivered");
            // The explanation is the pass that sent it, not the one that held it.
            let routing = lead["routing"].to_string();
            assert!(!routing.contains("paused"), "{routing}");
        }
        let delivered: Vec<_> = rx.requests().into_iter().filter(|r| r.path == "/in").collect();
        assert!(delivered.len() >= 4, "failed tries, then one delivery each");
        app.stop().await;
    }
}

both_backends! {
    async fn an_operators_pause_sends_waiting_leads_to_another_partner_when_one_can_take_them(db) {
        let app = delivering(db, &[("LEADROUTER_RETRY_SCHEDULE", "1h")]).await;
        let failing = Receiver::start("127.0.0.1").await;
        failing.otherwise(Reply::Status(503));
        let good = Receiver::start("127.0.0.1").await;
        let a = partner(&app, "A", &failing.url("partner.test", "/a"), json!({})).await;
        let aid = a["id"].as_i64().unwrap();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "w@example.de", "country": "de", "niche": "forex"})).await;
        let id = r["lead_id"].as_i64().unwrap();
        app.run_until_idle().await;
        // Waiting an hour for its retry at A; B arrives; the operator pauses A.
        partner(&app, "B", &good.url("partner.test", "/b"), json!({})).await;
        assert_eq!(app.post(&format!("/api/admin/partners/{aid}/pause"), json!({})).await.0, 200);
        app.run_until_idle().await;
        let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        assert_eq!(lead["status"], "delivered", "{lead}");
        assert_eq!(good.requests().len(), 1);
        let statuses: Vec<String> = lead["deliveries"].as_array().unwrap().iter()
            .map(|d| d["status"].as_str().unwrap().to_string()).collect();
        assert!(statuses.contains(&"withdrawn".to_string()), "{statuses:?}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_failed_delivery_retried_by_an_operator_explains_itself_anew(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(500));
        let p = partner(&app, "Picky FX", &rx.url("partner.test", "/in"), json!({})).await;
        let pid = p["id"].as_i64().unwrap();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "r@example.de", "country": "de", "niche": "forex"})).await;
        let id = r["lead_id"].as_i64().unwrap();
        // Every try on its schedule fails: the lead has no partner left.
        let lead = crate::support::eventually("failed at its only partner", || async {
            let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
            (lead["status"] == "failed").then_some(lead)
        }).await;
        assert!(lead["routing"].to_string().contains("already tried"), "{lead}");
        // The partner fixes its side; the operator retries the failed delivery.
        rx.otherwise(Reply::Status(200));
        let delivery = lead["deliveries"][0]["id"].as_i64().unwrap().to_string();
        let mut c = crate::support::console::Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let csrf = c.csrf().await;
        let r = c.post("/admin/deliveries/retry", &[("_csrf", &csrf), ("one", &delivery)]).await;
        assert_eq!(r.status, 303);
        app.run_until_idle().await;
        let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        assert_eq!(lead["status"], "delivered", "{lead}");
        let first = &lead["routing"][0];
        assert_eq!((first["partner_id"].as_i64(), first["eligible"].as_bool()), (Some(pid), Some(true)), "{lead}");
        assert_eq!(first["reason"], "its failed delivery retried by an operator");
        assert!(!lead["routing"].to_string().contains("already tried"), "no stale line for that partner");
        app.stop().await;
    }
}

both_backends! {
    async fn a_pause_while_an_attempt_is_in_flight_holds_its_lead_once_the_attempt_fails(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let gate = std::sync::Arc::new(tokio::sync::Notify::new());
        rx.script(vec![Reply::Gate(500, gate.clone())]);
        let p = partner(&app, "Slow FX", &rx.url("partner.test", "/in"), json!({})).await;
        let pid = p["id"].as_i64().unwrap();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "f@example.de", "country": "de", "niche": "forex"})).await;
        let id = r["lead_id"].as_i64().unwrap();
        // The attempt is at the partner when the operator pauses it: the pause leaves it be.
        crate::support::eventually("the attempt in flight", || async {
            (!rx.requests().is_empty()).then_some(())
        }).await;
        assert_eq!(app.post(&format!("/api/admin/partners/{pid}/pause"), json!({})).await.0, 200);
        // The partner answers 500: the lead would wait for a retry at a paused partner.
        gate.notify_one();
        crate::support::eventually("the attempt's outcome", || async {
            let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
            (lead["deliveries"][0]["attempt_count"] == 1).then_some(())
        }).await;
        app.run_until_idle().await;
        let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        assert_eq!(lead["status"], "held", "{lead}");
        assert_eq!(lead["deliveries"][0]["status"], "withdrawn", "{lead}");
        // Resume: the partner gets it, on the same delivery.
        assert_eq!(app.post(&format!("/api/admin/partners/{pid}/resume"), json!({})).await.0, 200);
        app.run_until_idle().await;
        let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        assert_eq!(lead["status"], "delivered", "{lead}");
        assert_eq!(lead["deliveries"].as_array().unwrap().len(), 1, "{lead}");
        app.stop().await;
    }
}
