//! Partners close the loop, on both backends: conversions, postbacks, lead status, CPA.

use crate::delivery::{delivering, lead_in, partner};
use crate::support::receiver::Receiver;
use crate::support::TestApp;
use serde_json::{json, Value};

struct Setup {
    app: TestApp,
    a: Value,
    b: Value,
    lead: i64,
    _rx: Receiver,
}

/// Partner A gets a delivered lead; partner B exists and has had nothing.
async fn setup(db: leadrouter_store::testing::TestDatabase) -> Setup {
    let app = delivering(db, &[]).await;
    let rx = Receiver::start("127.0.0.1").await;
    let a = partner(&app, "Alpha FX", &rx.url("partner.test", "/a"), json!({})).await;
    let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
    let (_, r) = app
        .send_lead(
            &token,
            json!({"email": "client@example.de", "country": "de", "niche": "forex"}),
        )
        .await;
    lead_in(&app, &r["lead_id"], "delivered").await;
    let b = partner(&app, "Beta FX", &rx.url("second.test", "/b"), json!({})).await;
    Setup {
        app,
        a,
        b,
        lead: r["lead_id"].as_i64().unwrap(),
        _rx: rx,
    }
}

async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: Option<&Value>,
    body: Option<Value>,
) -> (u16, Value, Option<String>) {
    let mut req = app.client.request(method, app.url(path));
    if let Some(k) = key {
        req = req.bearer_auth(k["api_key"].as_str().unwrap());
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let retry = r
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, r.json().await.unwrap_or(Value::Null), retry)
}

fn conversion(lead: i64, kind: &str, value: Value, txn: &str) -> Value {
    json!({"lead_id": lead, "conversion_type": kind, "conversion_value": value, "external_transaction_id": txn})
}

both_backends! {
    async fn a_delivered_lead_converts_and_shows_in_status_and_analytics(db) {
        let Setup { app, a, lead, .. } = setup(db).await;
        let path = format!("/api/conversion/{}", a["id"]);
        let (status, r, _) = call(&app, reqwest::Method::POST, &path, Some(&a), Some(conversion(lead, "deposit", json!(250.50), "tx-1"))).await;
        assert_eq!(status, 200, "{r}");
        assert_eq!(r, json!({"success": true, "message": "Conversion recorded successfully", "lead_id": lead,
            "conversion_type": "deposit", "total_value": 250.5}));
        // The x-api-key header works the same.
        let r = app.client.post(app.url(&path)).header("x-api-key", a["api_key"].as_str().unwrap())
            .json(&conversion(lead, "sale", json!("99.99"), "tx-2")).send().await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["total_value"], json!(350.49));

        let (status, s, _) = call(&app, reqwest::Method::GET, &format!("/api/lead/{lead}/status"), Some(&a), None).await;
        assert_eq!(status, 200, "{s}");
        let l = &s["lead"];
        assert_eq!((l["id"].as_i64(), l["email"].as_str(), l["status"].as_str()), (Some(lead), Some("client@example.de"), Some("converted")));
        assert_eq!(l["quality_score"], 100);
        assert_eq!(l["conversion_value"], json!(350.49));
        assert_eq!(l["conversion_count"], 2);
        assert_eq!(l["partner_name"], "Alpha FX");
        assert!(l["converted_at"].as_str().unwrap().ends_with('Z'));
        let history: Vec<&str> = l["status_history"].as_array().unwrap().iter().map(|h| h["status"].as_str().unwrap()).collect();
        assert_eq!(history, ["queued", "assigned", "delivered", "converted", "converted"]);

        let (status, cpa, _) = call(&app, reqwest::Method::GET, "/api/analytics/cpa", Some(&a), None).await;
        assert_eq!(status, 200, "{cpa}");
        let row = &cpa["analytics"][0];
        assert_eq!(row["partner_id"], a["id"]);
        assert_eq!((row["total_leads"].as_i64(), row["conversions"].as_i64()), (Some(1), Some(1)));
        assert_eq!(row["revenue"], json!(350.49));
        assert_eq!(row["conversion_rate"], json!(100.0));
        assert_eq!(row["avg_quality_score"], json!(100.0));
        assert_eq!(row["avg_conversion_value"], json!(350.49));
        assert_eq!(cpa["summary"]["revenue"], json!(350.49));
        let (status, _, _) = call(&app, reqwest::Method::GET, "/api/analytics/cpa?date_from=2020-01-01&date_to=2020-01-31", Some(&a), None).await;
        assert_eq!(status, 200);

        let (_, detail) = app.get(&format!("/api/admin/leads/{lead}")).await;
        assert_eq!(detail["conversions"].as_array().unwrap().len(), 2);
        let (_, admin) = app.get("/api/admin/analytics").await;
        let alpha = admin["partners"].as_array().unwrap().iter().find(|p| p["partner_id"] == a["id"]).unwrap().clone();
        assert_eq!((alpha["total_leads"].as_i64(), alpha["revenue"].clone()), (Some(1), json!(350.49)));
        assert_eq!(admin["totals"]["conversions"], 1);
        app.stop().await;
    }
}

both_backends! {
    async fn repeats_even_concurrent_ones_record_one_conversion(db) {
        let Setup { app, a, lead, .. } = setup(db).await;
        let path = format!("/api/conversion/{}", a["id"]);
        let body = conversion(lead, "deposit", json!(100), "tx-same");
        let answers = futures::future::join_all((0..10).map(|_| call(&app, reqwest::Method::POST, &path, Some(&a), Some(body.clone())))).await;
        assert!(answers.iter().all(|(s, r, _)| *s == 200 && r["total_value"] == json!(100.0)), "{answers:?}");
        let recorded = answers.iter().filter(|(_, r, _)| r["message"] == "Conversion recorded successfully").count();
        assert_eq!(recorded, 1);
        assert!(answers.iter().any(|(_, r, _)| r["message"] == "Conversion already recorded (idempotent)"));
        assert_eq!(app.store.lead_conversions(lead).await.unwrap().len(), 1);
        // The legacy postback, repeated.
        let legacy = format!("/api/postback/{}", a["id"]);
        for _ in 0..2 {
            let (status, r, _) = call(&app, reqwest::Method::POST, &legacy, Some(&a), Some(json!({"lead_id": lead, "status": "converted", "value": 50}))).await;
            assert_eq!(status, 200, "{r}");
            assert_eq!(r["total_value"], json!(150.0));
            assert_eq!(r["conversion_type"], "sale");
        }
        assert_eq!(app.store.lead_conversions(lead).await.unwrap().len(), 2);
        app.stop().await;
    }
}

both_backends! {
    async fn a_partner_never_sees_or_touches_another_partners_leads(db) {
        let Setup { app, a, b, lead, .. } = setup(db).await;
        let body = conversion(lead, "sale", json!(1), "tx-x");
        let (s, r, _) = call(&app, reqwest::Method::POST, &format!("/api/conversion/{}", a["id"]), Some(&b), Some(body.clone())).await;
        assert_eq!((s, r["error"]["code"].as_str()), (403, Some("forbidden")));
        let (s, r, _) = call(&app, reqwest::Method::POST, &format!("/api/conversion/{}", b["id"]), Some(&b), Some(body.clone())).await;
        assert_eq!((s, r["error"]["code"].as_str()), (404, Some("not_found")), "not delivered to B");
        assert_eq!(call(&app, reqwest::Method::GET, &format!("/api/lead/{lead}/status"), Some(&b), None).await.0, 404);
        assert_eq!(call(&app, reqwest::Method::GET, "/api/lead/999999/status", Some(&a), None).await.0, 404);
        let (_, cpa, _) = call(&app, reqwest::Method::GET, "/api/analytics/cpa", Some(&b), None).await;
        assert_eq!(cpa["analytics"].as_array().unwrap().len(), 1);
        assert_eq!((cpa["analytics"][0]["partner_id"].clone(), cpa["analytics"][0]["total_leads"].as_i64()), (b["id"].clone(), Some(0)));

        let (s, r, _) = call(&app, reqwest::Method::POST, &format!("/api/conversion/{}", a["id"]), None, Some(body.clone())).await;
        assert_eq!((s, r["error"]["code"].as_str()), (401, Some("unauthorized")));
        let r = app.client.get(app.url("/api/analytics/cpa")).bearer_auth("pk_not_a_real_key_0000000000000000").send().await.unwrap();
        assert_eq!(r.status(), 401);
        // An admin token is not a partner key, nor the other way round.
        let r = app.client.get(app.url("/api/analytics/cpa")).bearer_auth(&app.admin_token).send().await.unwrap();
        assert_eq!(r.status(), 401);
        let r = app.client.get(app.url("/api/admin/leads")).bearer_auth(a["api_key"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 401);
        app.stop().await;
    }
}

both_backends! {
    async fn malformed_reports_get_field_errors(db) {
        let Setup { app, a, lead, .. } = setup(db).await;
        let path = format!("/api/conversion/{}", a["id"]);
        let (s, r, _) = call(&app, reqwest::Method::POST, &path, Some(&a), Some(json!({"lead_id": "abc",
            "conversion_type": "lunch", "conversion_value": -3}))).await;
        assert_eq!(s, 422);
        let fields: Vec<&String> = r["error"]["fields"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["conversion_type", "conversion_value", "external_transaction_id", "lead_id"]);
        let (s, r, _) = call(&app, reqwest::Method::POST, &path, Some(&a), Some(conversion(lead, "sale", json!(1.999), "t"))).await;
        assert_eq!((s, r["error"]["fields"]["conversion_value"].as_str()), (422, Some("must have at most two decimal places")));
        let r = app.client.post(app.url(&path)).bearer_auth(a["api_key"].as_str().unwrap()).body("x").send().await.unwrap();
        assert_eq!(r.status(), 415);
        let (s, _, _) = call(&app, reqwest::Method::POST, &format!("/api/postback/{}", a["id"]), Some(&a), Some(json!({"lead_id": lead}))).await;
        assert_eq!(s, 422);
        let (s, r, _) = call(&app, reqwest::Method::GET, "/api/analytics/cpa?date_from=soon", Some(&a), None).await;
        assert_eq!((s, r["error"]["fields"]["date_from"].as_str()), (422, Some("must be a date YYYY-MM-DD")));
        app.stop().await;
    }
}

both_backends! {
    async fn each_key_is_rate_limited_with_retry_after(db) {
        let Setup { app, a, b, lead, .. } = setup(db).await;
        // A limit of N a minute allows a burst of N, then one more every 60/N seconds: count
        // the answers before the first 429 and allow for the refills while they were sent.
        async fn until_limited<F: std::future::Future<Output = (u16, Value, Option<String>)>>(
            per_minute: u64,
            mut send: impl FnMut(u64) -> F,
        ) -> (u64, Option<String>) {
            let started = std::time::Instant::now();
            for i in 0..per_minute * 2 {
                let (status, _, retry) = send(i).await;
                if status == 429 {
                    let refills = (started.elapsed().as_secs_f64() * per_minute as f64 / 60.0).ceil() as u64;
                    assert!(i >= per_minute && i <= per_minute + refills, "limited after {i} of {per_minute}/min");
                    return (i, retry);
                }
                assert_eq!(status, 200);
            }
            panic!("never limited");
        }
        let (_, retry) = until_limited(20, |_| call(&app, reqwest::Method::GET, "/api/analytics/cpa", Some(&a), None)).await;
        assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
        assert_eq!(call(&app, reqwest::Method::GET, "/api/analytics/cpa", Some(&b), None).await.0, 200, "per key");

        let path = format!("/api/conversion/{}", a["id"]);
        let (_, retry) = until_limited(50, |i| {
            call(&app, reqwest::Method::POST, &path, Some(&a), Some(conversion(lead, "qualified", json!(0), &format!("t{i}"))))
        })
        .await;
        assert!(retry.is_some());
        app.stop().await;
    }
}

both_backends! {
    async fn instances_sharing_a_database_together_allow_one_keys_limit(db) {
        let Setup { app, a, .. } = setup(db).await;
        // Two instances told LEADROUTER_INSTANCES=2: each allows half of the 20 CPA reads a
        // minute, so a key sent to both in turn is limited after 20 in all, not 40.
        let shared = [("LEADROUTER_INSTANCES", "2")];
        let (one, two) = (app.another_instance(&shared).await, app.another_instance(&shared).await);
        let started = std::time::Instant::now();
        let mut answered = 0u64;
        let limited_at = loop {
            let instance = if answered.is_multiple_of(2) { &one } else { &two };
            let (status, _, retry) = call(instance, reqwest::Method::GET, "/api/analytics/cpa", Some(&a), None).await;
            if status == 429 {
                assert!(retry.is_some());
                break answered;
            }
            assert_eq!(status, 200);
            answered += 1;
            assert!(answered <= 40, "never limited");
        };
        // Each instance refills one every 6 s: allow for what came back while they were sent.
        let refills = (started.elapsed().as_secs_f64() / 6.0).ceil() as u64 * 2;
        assert!((20..=20 + refills).contains(&limited_at), "limited after {limited_at}, not about 20");
        one.stop().await;
        two.stop().await;
        app.stop().await;
    }
}
