//! Delivery to partners' HTTPS endpoints, on both backends: what they receive, and what
//! happens for every kind of answer.

use crate::support::receiver::{tls, Receiver, Reply};
use crate::support::{eventually, TestApp};
use leadrouter_core::signing::standard;
use leadrouter_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::time::Duration;

pub(crate) async fn delivering(db: TestDatabase, extra: &[(&str, &str)]) -> TestApp {
    let ca = tls().ca_file.to_str().unwrap().to_string();
    let mut vars = vec![
        ("LEADROUTER_DELIVERY", "on"),
        ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
        ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"),
        ("LEADROUTER_DELIVERY_TIMEOUT", "1s"),
        ("LEADROUTER_RETRY_SCHEDULE", "50ms,50ms,50ms,50ms"),
    ];
    vars.extend_from_slice(extra);
    TestApp::spawn_with(db, &vars).await
}

pub(crate) async fn partner(app: &TestApp, name: &str, url: &str, extra: Value) -> Value {
    let mut body = json!({"name": name, "country": "germany", "niche": "forex", "daily_limit": 100,
        "premium_ratio": 50, "webhook_url": url});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, p) = app.post("/api/admin/partners", body).await;
    assert_eq!(status, 201, "{p}");
    p
}

async fn send(app: &TestApp, lead: Value) -> Value {
    let (_, token) = app
        .source(json!({"name": "S", "kind": "webhook", "source_label": "facebook_ads"}))
        .await;
    let (status, r) = app.send_lead(&token, lead).await;
    assert_eq!(status, 202, "{r}");
    r["lead_id"].clone()
}

fn john() -> Value {
    json!({"name": "John Smith", "email": "john.smith@email.com", "phone": "+49 1512 3456789",
           "country": "germany", "niche": "forex", "type": "premium", "amount_lost": "900", "utm_source": "fb"})
}

async fn lead(app: &TestApp, id: &Value) -> Value {
    app.get(&format!("/api/admin/leads/{id}")).await.1
}

pub(crate) async fn lead_in(app: &TestApp, id: &Value, status: &str) -> Value {
    eventually(&format!("lead {id} {status}"), || async {
        let l = lead(app, id).await;
        (l["status"] == status).then_some(l)
    })
    .await
}

both_backends! {
    async fn the_partner_receives_exactly_the_specified_payload_headers_and_signature(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let p = partner(&app, "FX Trading Partners Ltd", &rx.url("partner.test", "/api/leads"), json!({
            "required_fields": ["name", "email", "phone", "country"],
            "field_mapping": {"name": "full_name"}, "default_values": {"affiliate_id": "A-17"},
            "auth": {"type": "bearer", "token": "partner-s3cret"}})).await;
        let id = send(&app, john()).await;
        let delivered = lead_in(&app, &id, "delivered").await;

        let requests = rx.requests();
        assert_eq!(requests.len(), 1);
        let req = &requests[0];
        assert_eq!(req.path, "/api/leads");
        let h = |k: &str| req.headers.get(k).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
        assert_eq!(h("content-type"), "application/json");
        assert!(h("user-agent").starts_with("leadrouter/"), "{}", h("user-agent"));
        assert_eq!(h("idempotency-key"), id.as_i64().unwrap().to_string());
        assert_eq!(h("webhook-id"), id.as_i64().unwrap().to_string());
        assert_eq!(h("authorization"), "Bearer partner-s3cret");
        let ts: i64 = h("webhook-timestamp").parse().unwrap();
        assert!((chrono::Utc::now().timestamp() - ts).abs() < 60);
        let secret = p["signing_secret"].as_str().unwrap();
        assert!(standard::verify(secret, &h("webhook-id"), ts, &req.body, &h("webhook-signature")), "signature verifies");

        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let timestamp = body["timestamp"].as_str().unwrap().to_string();
        assert!(timestamp.ends_with('Z') && timestamp.len() == 24, "{timestamp}");
        assert_eq!(body, json!({
            "lead_id": id.as_i64().unwrap().to_string(), "full_name": "John Smith",
            "email": "john.smith@email.com", "phone": "+4915123456789", "country": "germany",
            "niche": "forex", "lead_type": "premium", "source": "facebook_ads",
            "timestamp": timestamp, "affiliate_id": "A-17"
        }), "custom fields nobody asked for are not sent");

        let attempts = &delivered["deliveries"][0]["attempts"];
        assert_eq!(attempts.as_array().unwrap().len(), 1);
        assert_eq!(attempts[0]["status_code"], 200);
        assert_eq!(attempts[0]["outcome"], "delivered");
        assert_eq!(attempts[0]["response_excerpt"], "ok");
        assert!(attempts[0]["latency_ms"].as_i64().is_some());
        assert_eq!(delivered["deliveries"][0]["status"], "delivered");
        app.stop().await;
    }
}

both_backends! {
    async fn two_server_errors_then_success_is_delivered_on_the_third_attempt(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.script(vec![Reply::Status(500), Reply::Status(500)]);
        partner(&app, "P", &rx.url("partner.test", "/hook"), json!({})).await;
        let id = send(&app, john()).await;
        let l = lead_in(&app, &id, "delivered").await;
        let attempts: Vec<(i64, String)> = l["deliveries"][0]["attempts"].as_array().unwrap().iter()
            .map(|a| (a["status_code"].as_i64().unwrap(), a["outcome"].as_str().unwrap().to_string())).collect();
        assert_eq!(attempts, [(500, "retry".to_string()), (500, "retry".to_string()), (200, "delivered".to_string())]);
        let keys: Vec<_> = rx.requests().iter().map(|r| r.headers["idempotency-key"].clone()).collect();
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "the same Idempotency-Key on every retry");
        app.stop().await;
    }
}

both_backends! {
    async fn only_the_first_kibibyte_of_an_answer_is_kept(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let long = format!("{}{}", "a".repeat(1024), "b".repeat(9000));
        rx.script(vec![Reply::Body(400, long)]);
        partner(&app, "Verbose", &rx.url("partner.test", "/hook"), json!({})).await;
        let id = send(&app, john()).await;
        let l = lead_in(&app, &id, "failed").await;
        let excerpt = l["deliveries"][0]["attempts"][0]["response_excerpt"].as_str().unwrap().to_string();
        assert_eq!(excerpt, "a".repeat(1024));
        app.stop().await;
    }
}

both_backends! {
    async fn retry_after_is_honoured(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.script(vec![Reply::With(429, vec![("retry-after", "1".into())])]);
        partner(&app, "P", &rx.url("partner.test", "/hook"), json!({})).await;
        let id = send(&app, john()).await;
        lead_in(&app, &id, "delivered").await;
        let r = rx.requests();
        assert_eq!(r.len(), 2);
        assert!(r[1].at.duration_since(r[0].at) >= Duration::from_secs(1), "waited {:?}", r[1].at.duration_since(r[0].at));
        app.stop().await;
    }
}

both_backends! {
    async fn a_rejection_sends_the_lead_to_the_next_partner(db) {
        let app = delivering(db, &[]).await;
        let refusing = Receiver::start("127.0.0.1").await;
        refusing.otherwise(Reply::Status(400));
        let willing = Receiver::start("127.0.0.1").await;
        let a = partner(&app, "A", &refusing.url("partner.test", "/a"), json!({})).await;
        let b = partner(&app, "B", &willing.url("second.test", "/b"), json!({})).await;
        app.post(&format!("/api/admin/partners/{}/pause", b["id"]), json!({})).await;
        let id = send(&app, john()).await;
        let held = lead_in(&app, &id, "held").await;
        assert_eq!(held["deliveries"][0]["status"], "rejected");
        assert_eq!(held["deliveries"][0]["attempts"][0]["status_code"], 400);
        assert_eq!(app.get(&format!("/api/admin/partners/{}", a["id"])).await.1["today"]["total"], 0, "released");

        app.post(&format!("/api/admin/partners/{}/resume", b["id"]), json!({})).await;
        let l = lead_in(&app, &id, "delivered").await;
        assert_eq!(l["partner_id"], b["id"]);
        assert_eq!(refusing.requests().len(), 1, "a rejection is not retried");
        assert_eq!(willing.requests().len(), 1);
        app.stop().await;
    }
}

both_backends! {
    async fn a_redirect_is_a_rejection_and_is_never_followed(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::With(302, vec![("location", rx.url("partner.test", "/elsewhere"))]));
        partner(&app, "P", &rx.url("partner.test", "/hook"), json!({})).await;
        let id = send(&app, john()).await;
        let l = lead_in(&app, &id, "failed").await;
        assert_eq!(l["deliveries"][0]["status"], "rejected");
        assert_eq!(l["deliveries"][0]["attempts"][0]["status_code"], 302);
        let paths: Vec<String> = rx.requests().iter().map(|r| r.path.clone()).collect();
        assert_eq!(paths, ["/hook"], "the Location was never requested");
        app.stop().await;
    }
}

both_backends! {
    async fn a_receiver_that_hangs_times_out_and_is_retried(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.script(vec![Reply::Hang]);
        partner(&app, "P", &rx.url("partner.test", "/hook"), json!({})).await;
        let id = send(&app, john()).await;
        let l = lead_in(&app, &id, "delivered").await;
        let attempts = l["deliveries"][0]["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 2);
        assert_eq!(attempts[0]["outcome"], "retry");
        assert!(attempts[0]["error"].as_str().unwrap().contains("timed out"), "{}", attempts[0]);
        assert_eq!(attempts[0]["status_code"], Value::Null);
        app.stop().await;
    }
}

both_backends! {
    async fn an_unreachable_endpoint_is_retried_then_failed_and_the_lead_fails_over(db) {
        let app = delivering(db, &[]).await;
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        partner(&app, "Down", &format!("https://partner.test:{closed}/hook"), json!({})).await;
        let id = send(&app, john()).await;
        let l = lead_in(&app, &id, "failed").await;
        let attempts = l["deliveries"][0]["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 5, "the first try and four retries");
        assert!(attempts[..4].iter().all(|a| a["outcome"] == "retry"));
        assert_eq!(attempts[4]["outcome"], "failed");
        assert!(attempts[0]["error"].as_str().unwrap().contains("could not connect"), "{}", attempts[0]);
        assert_eq!(l["deliveries"][0]["status"], "failed");
        app.stop().await;
    }
}

both_backends! {
    async fn a_name_that_rebinds_to_a_blocked_address_is_refused_without_a_connection(db) {
        let app = delivering(db, &[]).await;
        let inside = Receiver::start("127.0.0.2").await;
        // At save time the name points at the one allowed address ...
        app.dns.set("sneaky.test", &["127.0.0.1"]);
        let p = partner(&app, "Sneaky", &inside.url("sneaky.test", "/hook"), json!({})).await;
        // ... then its DNS answer changes to a neighbour that is not allowed.
        app.dns.set("sneaky.test", &["127.0.0.2"]);
        let id = send(&app, john()).await;
        let l = lead_in(&app, &id, "failed").await;
        let attempt = &l["deliveries"][0]["attempts"][0];
        assert_eq!(attempt["outcome"], "blocked");
        assert!(attempt["error"].as_str().unwrap().contains("127.0.0.2"), "{attempt}");
        assert_eq!(l["deliveries"][0]["status"], "rejected");
        assert!(inside.requests().is_empty(), "no connection was made");
        let (_, test) = app.post(&format!("/api/admin/partners/{}/test", p["id"]), json!({})).await;
        assert_eq!(test["attempt"]["outcome"], "blocked");
        assert!(inside.requests().is_empty());
        app.stop().await;
    }
}

both_backends! {
    async fn gone_pauses_the_partner_and_so_do_repeated_failures(db) {
        let app = delivering(db, &[("LEADROUTER_PAUSE_AFTER_FAILURES", "3")]).await;
        let gone = Receiver::start("127.0.0.1").await;
        gone.otherwise(Reply::Status(410));
        let p = partner(&app, "Gone", &gone.url("partner.test", "/hook"), json!({})).await;
        let id = send(&app, john()).await;
        lead_in(&app, &id, "failed").await;
        let (_, p) = app.get(&format!("/api/admin/partners/{}", p["id"])).await;
        assert_eq!(p["status"], "paused");
        assert!(p["paused_reason"].as_str().unwrap().contains("410"));

        let failing = Receiver::start("127.0.0.1").await;
        failing.otherwise(Reply::Status(503));
        let q = partner(&app, "Failing", &failing.url("second.test", "/hook"), json!({})).await;
        let (_, token) = app.source(json!({"name": "S2", "kind": "webhook"})).await;
        app.send_lead(&token, json!({"email": "x@y.de", "country": "de", "niche": "forex"})).await;
        eventually("paused after three failures in a row", || async {
            let (_, q) = app.get(&format!("/api/admin/partners/{}", q["id"])).await;
            (q["status"] == "paused").then_some(())
        })
        .await;
        let (_, q) = app.get(&format!("/api/admin/partners/{}", q["id"])).await;
        assert_eq!(q["paused_reason"], "3 failed deliveries in a row");
        // Three failures paused it; a retry already due in that instant may have gone out.
        assert!((3..=4).contains(&failing.requests().len()), "{}", failing.requests().len());
        app.stop().await;
    }
}

both_backends! {
    async fn a_test_lead_goes_through_the_same_path_and_returns_the_attempt(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let p = partner(&app, "P", &rx.url("partner.test", "/hook"), json!({"required_fields": "name,amount_lost"})).await;
        let (status, r) = app.post(&format!("/api/admin/partners/{}/test", p["id"]), json!({})).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r["attempt"]["status_code"], 200);
        assert_eq!(r["attempt"]["outcome"], "delivered");
        let req = &rx.requests()[0];
        let id = req.headers["webhook-id"].to_str().unwrap().to_string();
        assert!(id.starts_with("test-"));
        let ts: i64 = req.headers["webhook-timestamp"].to_str().unwrap().parse().unwrap();
        assert!(standard::verify(p["signing_secret"].as_str().unwrap(), &id, ts, &req.body,
            req.headers["webhook-signature"].to_str().unwrap()));
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body["amount_lost"], "test");
        assert_eq!(app.store.lead_status_counts().await.unwrap().values().sum::<i64>(), 0, "nothing stored");
        rx.otherwise(Reply::Status(422));
        let (_, r) = app.post(&format!("/api/admin/partners/{}/test", p["id"]), json!({})).await;
        assert_eq!((r["attempt"]["status_code"].as_i64(), r["attempt"]["outcome"].as_str()), (Some(422), Some("rejected")));
        app.stop().await;
    }
}

both_backends! {
    async fn a_slow_partner_does_not_hold_up_another_partners_leads(db) {
        use crate::hardening::webhook_source;
        let app = delivering(db, &[("LEADROUTER_DELIVERY_TIMEOUT", "30s")]).await;
        let slow = Receiver::start("127.0.0.1").await;
        slow.otherwise(Reply::Slow(200, Duration::from_secs(5)));
        let fast = Receiver::start("127.0.0.1").await;
        partner(&app, "Slow DE", &slow.url("partner.test", "/slow"), json!({"daily_limit": 1000})).await;
        let at = partner(&app, "Fast AT", &fast.url("second.test", "/fast"),
            json!({"country": "austria", "daily_limit": 1000})).await;
        let token = webhook_source(&app).await;
        // 300 leads for the slow partner: at 32 at a time and 5 s each, a backlog of ~45 s.
        let sends = (0..300).map(|i| app.send_lead(&token, json!({
            "email": format!("slow{i}@example.com"), "country": "de", "niche": "forex"})));
        let answers = futures::future::join_all(sends).await;
        assert!(answers.iter().all(|(s, _)| *s == 202));
        crate::support::eventually("the slow partner busy", || async {
            (!slow.requests().is_empty()).then_some(())
        }).await;
        let (_, r) = app.send_lead(&token, json!({"email": "fast@example.com", "country": "at",
            "niche": "forex"})).await;
        // Delivered within the wait's 30 s bound, far inside the slow partner's backlog.
        let lead = lead_in(&app, &r["lead_id"], "delivered").await;
        assert_eq!(lead["partner_id"], at["id"]);
        assert_eq!(fast.requests().len(), 1);
        let slow_seen = slow.requests().len();
        assert!(slow_seen < 300, "the fast lead waited for the slow backlog ({slow_seen} sent)");
        app.stop().await;
    }
}
