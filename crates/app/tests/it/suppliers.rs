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

both_backends! {
    async fn cost_and_profit_are_what_each_delivered_lead_cost_at_its_suppliers_price_less_the_returned(db) {
        use crate::support::receiver::{tls, Receiver};
        let clock = Arc::new(ManualClock::at(at("2026-12-01T09:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Broker", "country": "germany", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/in"), "price_per_lead": "10.00", "daily_limit": 100})).await;
        assert_eq!(s, 201, "{p}");
        let partner_id = p["id"].as_i64().unwrap();
        let key = app.post(&format!("/api/admin/partners/{partner_id}/rotate-key"), json!({})).await.1["api_key"]
            .as_str().unwrap().to_string();
        let (a, a_token) = app.source(json!({"name": "Affiliate A", "kind": "webhook", "cost_per_lead": "3.00"})).await;
        let (b, b_token) = app.source(json!({"name": "Affiliate B", "kind": "webhook", "cost_per_lead": 4.5})).await;
        let (c, c_token) = app.source(json!({"name": "Own site", "kind": "webhook"})).await;
        let send = |token: String, i: usize| {
            let app = &app;
            async move {
                let (s, r) = app.send_lead(&token, lead(i)).await;
                assert_eq!(s, 202, "{r}");
                app.run_until_idle().await;
                r["lead_id"].as_i64().unwrap()
            }
        };
        let first = send(a_token.clone(), 0).await;
        send(a_token.clone(), 1).await;
        send(b_token.clone(), 2).await;
        send(c_token.clone(), 3).await;
        // A's price goes up: later leads of A cost the new price, earlier ones keep theirs.
        assert_eq!(app.patch(&format!("/api/admin/sources/{a}"), json!({"cost_per_lead": "3.50"})).await.0, 200);
        send(a_token.clone(), 4).await;
        assert_eq!(rx.requests().len(), 5);
        // The partner returns A's first lead; approved, it costs nothing.
        let r = app.client.post(app.url(&format!("/api/return/{partner_id}"))).bearer_auth(&key)
            .json(&json!({"lead_id": first, "reason": "invalid_contact"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let return_id = r.json::<Value>().await.unwrap()["return_id"].as_i64().unwrap();
        assert_eq!(app.post(&format!("/api/admin/returns/{return_id}/approve"), json!({})).await.0, 200);

        // Independently: A 3.00 (returned: 0) + 3.00 + 3.50, B 4.50, the own site 0; the
        // partner pays 10.00 for each of the 5 delivered.
        let check = |body: Value, a_cost: f64, revenue: f64| {
            let expected_cost = [(a, a_cost), (b, 4.5), (c, 0.0)];
            let total = a_cost + 4.5;
            let t = &body["totals"];
            assert_eq!(t["cost"], json!(total), "{body}");
            assert_eq!(t["lead_revenue"], json!(revenue), "{body}");
            assert_eq!(t["profit"], json!(revenue - total), "{body}");
            assert_eq!(t["profit_text"], format!("{:.2}", revenue - total), "{body}");
            for (id, cost) in expected_cost {
                let row = body["rows"].as_array().unwrap().iter().find(|r| r["key"].as_str() == Some(id.to_string().as_str())).cloned()
                    .unwrap_or_else(|| panic!("source {id}: {body}"));
                assert_eq!(row["cost"], json!(cost), "source {id}: {row}");
                assert_eq!(row["profit"], json!(row["lead_revenue"].as_f64().unwrap() - cost), "source {id}: {row}");
            }
        };
        let q = "/api/admin/analytics?from=2026-12-01&to=2026-12-01&group_by=source";
        check(app.get(q).await.1, 6.5, 50.0);
        // A lead of A waits for a partner that opens at 11:00 in Vienna (10:00 UTC): it is
        // received in one half hour and delivered in another.
        let (s, vienna) = app.post("/api/admin/partners", json!({"name": "Vienna desk", "country": "austria",
            "niche": "forex", "webhook_url": rx.url("partner.test", "/at"), "price_per_lead": "10.00",
            "timezone": "Europe/Vienna", "business_hours": {"tue": ["11:00", "18:00"]}})).await;
        assert_eq!(s, 201, "{vienna}");
        let vienna_id = vienna["id"].as_i64().unwrap();
        let vienna_key = app.post(&format!("/api/admin/partners/{vienna_id}/rotate-key"), json!({})).await.1["api_key"]
            .as_str().unwrap().to_string();
        let (s, r) = app.send_lead(&a_token, json!({"email": "late@example.at", "country": "at", "niche": "forex"})).await;
        assert_eq!(s, 202, "{r}");
        let late = r["lead_id"].as_i64().unwrap();
        app.run_until_idle().await;
        clock.set(at("2026-12-01T10:00:00Z"));
        app.run_until_idle().await;
        assert_eq!(app.get(&format!("/api/admin/leads/{late}")).await.1["status"], "delivered");
        check(app.get(q).await.1, 10.0, 60.0);
        // The same once the half hours are rolled up.
        clock.set(at("2026-12-02T09:00:00Z"));
        app.run_until_idle().await;
        app.run_until_idle().await;
        let (rows, stale, _) = app.store.figures_state_for_tests().await;
        assert!(rows > 0 && stale == 0, "{rows} {stale}");
        check(app.get(q).await.1, 10.0, 60.0);
        // A return approved a day later takes the late lead's cost off the half hour it was
        // delivered in (not the one it arrived in), read from the leads at once, then
        // rolled again.
        let r = app.client.post(app.url(&format!("/api/return/{vienna_id}"))).bearer_auth(&vienna_key)
            .json(&json!({"lead_id": late, "reason": "duplicate"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let return_id = r.json::<Value>().await.unwrap()["return_id"].as_i64().unwrap();
        assert_eq!(app.post(&format!("/api/admin/returns/{return_id}/approve"), json!({})).await.0, 200);
        check(app.get(q).await.1, 6.5, 60.0);
        app.run_until_idle().await;
        assert_eq!(app.store.figures_state_for_tests().await.1, 0, "rolled again");
        check(app.get(q).await.1, 6.5, 60.0);

        // By partner and by day the totals agree.
        let (_, by_partner) = app.get("/api/admin/analytics?from=2026-12-01&to=2026-12-01&group_by=partner").await;
        let broker = by_partner["rows"].as_array().unwrap().iter().find(|r| r["key"].as_str() == Some(partner_id.to_string().as_str())).cloned().unwrap();
        assert_eq!(broker["cost"], json!(11.0), "{by_partner}");
        let (_, by_day) = app.get("/api/admin/analytics?from=2026-12-01&to=2026-12-01&group_by=day").await;
        assert_eq!(by_day["totals"]["profit"], json!(49.0), "{by_day}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_postback_url_is_held_to_the_webhooks_rules_when_it_is_saved(db) {
        let app = TestApp::spawn(db).await;
        let (id, _) = app.source(json!({"name": "Affiliate P", "kind": "webhook",
            "postback_url": "https://tracker.example.com/pb?cid={click_id}&s={status}&p={payout}",
            "postback_events": ["delivered", "returned"]})).await;
        let (_, s) = app.get(&format!("/api/admin/sources/{id}")).await;
        assert_eq!(s["postback_url"], "https://tracker.example.com/pb?cid={click_id}&s={status}&p={payout}");
        assert_eq!(s["postback_events"], json!(["delivered", "returned"]));
        // Without events given: all four.
        let (other, _) = app.source(json!({"name": "Affiliate Q", "kind": "webhook",
            "postback_url": "https://tracker.example.com/pb/{lead_id}"})).await;
        let (_, s) = app.get(&format!("/api/admin/sources/{other}")).await;
        assert_eq!(s["postback_events"], json!(["delivered", "rejected", "converted", "returned"]));
        for (url, says) in [
            ("http://tracker.example.com/pb?cid={click_id}", "https"),
            ("https://127.0.0.1/pb", "127.0.0.1"),
            ("https://user:secret@tracker.example.com/pb", "credentials"),
            ("https://{click_id}.tracker.example.com/pb", "path and the query"),
            // A name that resolves to a loopback address.
            ("https://partner.test/pb?cid={click_id}", "127.0.0.1"),
        ] {
            let (s, e) = app.patch(&format!("/api/admin/sources/{id}"), json!({"postback_url": url})).await;
            assert_eq!(s, 422, "{url}: {e}");
            let why = e["error"]["fields"]["postback_url"].as_str().unwrap_or_default();
            assert!(why.contains(says), "{url}: {e}");
        }
        let (s, e) = app.patch(&format!("/api/admin/sources/{id}"), json!({"postback_events": ["sold"]})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["postback_events"].as_str().unwrap().contains("sold"), "{e}");
        // Nothing was changed by the refusals; null clears the postback.
        let (_, s) = app.get(&format!("/api/admin/sources/{id}")).await;
        assert_eq!(s["postback_events"], json!(["delivered", "returned"]));
        assert_eq!(app.patch(&format!("/api/admin/sources/{id}"), json!({"postback_url": null})).await.0, 200);
        assert_eq!(app.get(&format!("/api/admin/sources/{id}")).await.1["postback_url"], Value::Null);
        app.stop().await;
    }
}

both_backends! {
    async fn each_chosen_event_reaches_the_suppliers_tracker_once_signed_with_its_placeholders_filled(db) {
        use crate::delivery::{delivering, lead_in, partner};
        use crate::support::eventually;
        use crate::support::receiver::{Receiver, Reply};
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(200));
        let tracker = Receiver::start("127.0.0.1").await;
        // The tracker's first answer is a 500: that postback is sent again.
        tracker.script(vec![Reply::Status(500)]);
        tracker.otherwise(Reply::Status(200));
        let broker = partner(&app, "Broker", &rx.url("partner.test", "/in"), json!({})).await;
        let broker_id = broker["id"].as_i64().unwrap();
        let key = app.post(&format!("/api/admin/partners/{broker_id}/rotate-key"), json!({})).await.1["api_key"]
            .as_str().unwrap().to_string();
        let picky = Receiver::start("127.0.0.1").await;
        picky.otherwise(Reply::Status(400));
        partner(&app, "Vienna", &picky.url("second.test", "/at"), json!({"country": "austria"})).await;
        let template = format!("{}?cid={{click_id}}&e={{event}}&s={{status}}&p={{payout}}&ext={{external_id}}&r={{reason}}",
            tracker.url("partner.test", "/pb"));
        let (s, created) = app.post("/api/admin/sources", json!({"name": "Affiliate S", "kind": "webhook",
            "cost_per_lead": "2.50", "postback_url": template})).await;
        assert_eq!(s, 201, "{created}");
        let secret = created["signing_secret"].as_str().expect("shown once at creation").to_string();
        let (source_id, token) = (created["id"].as_i64().unwrap(), created["token"].as_str().unwrap().to_string());
        assert!(app.get(&format!("/api/admin/sources/{source_id}")).await.1.get("signing_secret").is_none(), "never again");
        let (_, only_converted) = app.post("/api/admin/sources", json!({"name": "Affiliate T", "kind": "webhook",
            "postback_url": tracker.url("partner.test", "/t"), "postback_events": ["converted"]})).await;
        let t_token = only_converted["token"].as_str().unwrap().to_string();

        let send = |token: String, body: Value| {
            let app = &app;
            async move {
                let (s, r) = app.send_lead(&token, body).await;
                assert_eq!(s, 202, "{r}");
                r["lead_id"].as_i64().unwrap()
            }
        };
        let a = send(token.clone(), json!({"email": "a@example.de", "country": "de", "niche": "forex",
            "external_id": "ext 1", "click_id": "c-1&x"})).await;
        lead_in(&app, &json!(a), "delivered").await;
        let b = send(token.clone(), json!({"email": "b@example.at", "country": "at", "niche": "forex", "click_id": "c-2"})).await;
        lead_in(&app, &json!(b), "failed").await;
        let c = send(t_token.clone(), json!({"email": "c@example.de", "country": "de", "niche": "forex"})).await;
        lead_in(&app, &json!(c), "delivered").await;
        let r = app.client.post(app.url(&format!("/api/conversion/{broker_id}"))).bearer_auth(&key)
            .json(&json!({"lead_id": a, "conversion_type": "deposit", "conversion_value": 250, "external_transaction_id": "tx-1"}))
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
        let r = app.client.post(app.url(&format!("/api/return/{broker_id}"))).bearer_auth(&key)
            .json(&json!({"lead_id": a, "reason": "invalid_contact"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let return_id = r.json::<Value>().await.unwrap()["return_id"].as_i64().unwrap();
        assert_eq!(app.post(&format!("/api/admin/returns/{return_id}/approve"), json!({})).await.0, 200);

        // Every chosen event sent, the 500 one again after its retry.
        let listed = eventually("every postback sent", || async {
            app.run_until_idle().await;
            let (_, l) = app.get(&format!("/api/admin/sources/{source_id}/postbacks")).await;
            let rows = l["postbacks"].as_array().cloned().unwrap_or_default();
            (rows.len() == 4 && rows.iter().all(|p| p["status"] == "sent")).then_some(rows)
        }).await;
        let mut events: Vec<(&str, i64)> = listed.iter().map(|p| (p["event"].as_str().unwrap(), p["lead_id"].as_i64().unwrap())).collect();
        events.sort();
        assert_eq!(events, vec![("converted", a), ("delivered", a), ("rejected", b), ("returned", a)]);
        assert_eq!(listed.iter().map(|p| p["attempts"].as_i64().unwrap()).sum::<i64>(), 5, "one retried after its 500: {listed:?}");
        let got = tracker.requests();
        let to_s: Vec<_> = got.iter().filter(|r| r.path == "/pb").collect();
        assert_eq!(to_s.len(), 5, "four events, one of them twice");
        let mut ids: Vec<&str> = to_s.iter().map(|r| r.headers["webhook-id"].to_str().unwrap()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 4, "a retry carries the same webhook-id");
        let hook = standardwebhooks::Webhook::new(&secret).unwrap();
        for r in &to_s {
            hook.verify(b"", &r.headers).expect("signed with the source's secret");
            assert!(r.headers["webhook-id"].to_str().unwrap().starts_with("postback-"));
        }
        let query = |e: &str| to_s.iter().rev().map(|r| r.query.clone().unwrap_or_default())
            .find(|q| q.contains(&format!("e={e}&"))).unwrap_or_else(|| panic!("no {e}"));
        assert_eq!(query("delivered"), "cid=c-1%26x&e=delivered&s=delivered&p=2.50&ext=ext+1&r=");
        assert_eq!(query("rejected"), "cid=c-2&e=rejected&s=failed&p=2.50&ext=&r=failed");
        assert_eq!(query("converted"), "cid=c-1%26x&e=converted&s=converted&p=2.50&ext=ext+1&r=");
        assert_eq!(query("returned"), "cid=c-1%26x&e=returned&s=returned&p=2.50&ext=ext+1&r=returned");
        // The source that chose only conversions heard nothing of its delivered lead.
        assert!(got.iter().all(|r| r.path != "/t"), "no postback for an event not chosen");
        app.stop().await;
    }
}

both_backends! {
    async fn a_failed_postback_is_listed_on_the_sources_page_and_sent_again_by_retry(db) {
        use crate::delivery::{delivering, lead_in, partner};
        use crate::support::eventually;
        use crate::support::receiver::{Receiver, Reply};
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(200));
        partner(&app, "Broker", &rx.url("partner.test", "/in"), json!({})).await;
        let tracker = Receiver::start("127.0.0.1").await;
        // A 400 is final: the postback fails at once.
        tracker.script(vec![Reply::Status(400)]);
        tracker.otherwise(Reply::Status(200));
        let (s, created) = app.post("/api/admin/sources", json!({"name": "Affiliate R", "kind": "webhook",
            "postback_url": format!("{}?l={{lead_id}}", tracker.url("partner.test", "/pb")), "postback_events": "delivered"})).await;
        assert_eq!(s, 201, "{created}");
        let (id, token) = (created["id"].as_i64().unwrap(), created["token"].as_str().unwrap().to_string());
        let (_, r) = app.send_lead(&token, json!({"email": "r@example.de", "country": "de", "niche": "forex"})).await;
        lead_in(&app, &r["lead_id"], "delivered").await;
        let failed = eventually("the postback failed", || async {
            app.run_until_idle().await;
            let (_, l) = app.get(&format!("/api/admin/sources/{id}/postbacks")).await;
            l["postbacks"].as_array().and_then(|p| p.first().cloned()).filter(|p| p["status"] == "failed")
        }).await;
        assert_eq!((failed["last_status"].as_i64(), failed["last_error"].as_str()), (Some(400), Some("HTTP 400")), "{failed}");
        let mut console = Console::new(&app);
        console.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = console.get(&format!("/admin/sources/{id}")).await;
        assert!(page.body.contains("HTTP 400") && page.body.contains(">Retry</button>"), "{}", page.body);
        let csrf = page.csrf();
        let done = console.post(&format!("/admin/sources/{id}/postbacks/{}/retry", failed["id"]), &[("_csrf", csrf.as_str())]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        eventually("sent again", || async {
            app.run_until_idle().await;
            let (_, l) = app.get(&format!("/api/admin/sources/{id}/postbacks")).await;
            l["postbacks"].as_array().and_then(|p| p.first().cloned()).filter(|p| p["status"] == "sent")
        }).await;
        assert_eq!(tracker.requests().len(), 2);
        let page = console.get(&format!("/admin/sources/{id}")).await;
        assert!(page.body.contains(&format!("Postback #{} is sent again.", failed["id"])), "{}", page.body);
        app.stop().await;
    }
}
