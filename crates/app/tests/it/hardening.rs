//! What a new user and an attacker found in the backend (issue 12), each as the behaviour a
//! user would notice, on both backends where storage is involved.

use crate::delivery::{delivering, lead_in, partner};
use crate::support::receiver::Receiver;
use crate::support::TestApp;
use serde_json::{json, Value};

/// The guide's example lead, as a source would send it.
fn guide_lead() -> Value {
    json!({"name": "John Smith", "email": "john.smith@email.com", "phone": "+491234567890",
           "country": "germany", "niche": "forex", "type": "premium", "source": "facebook_ads"})
}

pub(crate) async fn webhook_source(app: &TestApp) -> String {
    app.source(json!({"name": "Guide source", "kind": "webhook"}))
        .await
        .1
}

both_backends! {
    async fn the_guides_example_phone_is_kept_flagged_and_delivered(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let strict = partner(&app, "Valid phones only", "https://fxpartners.com/api/leads",
            json!({"valid_phone_only": true})).await;
        assert_eq!(strict["valid_phone_only"], json!(true));
        let open = partner(&app, "FX Trading Partners Ltd", &rx.url("partner.test", "/api/leads"),
            json!({})).await;
        assert_eq!(open["valid_phone_only"], json!(false), "off unless asked for");
        let token = webhook_source(&app).await;

        let (status, answer) = app.send_lead(&token, guide_lead()).await;
        assert_eq!(status, 202, "the guide's own example is accepted: {answer}");
        let id = answer["lead_id"].clone();
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(lead["phone"], "+491234567890");
        assert_eq!(lead["phone_valid"], json!(false));
        assert_eq!(lead["partner_id"], open["id"]);
        let strict_entry = lead["routing"].as_array().unwrap().iter()
            .find(|e| e["partner_id"] == strict["id"]).cloned().unwrap_or_else(|| panic!("{lead}"));
        assert_eq!(strict_entry["eligible"], json!(false));
        assert_eq!(strict_entry["reason"], "phone number not valid");
        let got: Value = serde_json::from_slice(&rx.requests()[0].body).unwrap();
        assert_eq!(got["phone"], "+491234567890");

        // A valid mobile number goes to either; an impossible one is still a 422 naming it.
        let (status, answer) = app.send_lead(&token, json!({"email": "a@example.com",
            "phone": "0151 12345678", "country": "de", "niche": "forex"})).await;
        assert_eq!(status, 202, "{answer}");
        let valid = app.get(&format!("/api/admin/leads/{}", answer["lead_id"])).await.1;
        assert_eq!(valid["phone_valid"], json!(true));
        for phone in ["12", "call me", "+49 1234 5678 9012 3456 78"] {
            let (status, answer) = app.send_lead(&token, json!({"email": "b@example.com",
                "phone": phone, "country": "de", "niche": "forex"})).await;
            assert_eq!(status, 422, "{phone}: {answer}");
            assert_eq!(answer["error"]["fields"]["phone"], "is not a valid phone number for germany");
        }
        app.stop().await;
    }
}

/// A fake forward proxy on loopback: accepts connections and records the first line of
/// each (`CONNECT host:port HTTP/1.1`), then refuses it. No request may ever reach it.
struct FakeProxy {
    url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl FakeProxy {
    async fn start() -> FakeProxy {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = std::sync::Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = std::sync::Arc::clone(&log);
                tokio::spawn(async move {
                    let mut stream = BufReader::new(stream);
                    let mut line = String::new();
                    let _ = stream.read_line(&mut line).await;
                    log.lock().unwrap().push(line.trim().to_string());
                    let _ = stream
                        .get_mut()
                        .write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                        .await;
                });
            }
        });
        FakeProxy { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

both_backends! {
    async fn proxy_variables_never_carry_a_request_past_the_ssrf_guard(db) {
        use crate::support::process::{run, Server};
        use crate::support::receiver::tls;
        let proxy = FakeProxy::start().await;
        let rx = Receiver::start("127.0.0.1").await;
        let url = db.url.expose().to_string();
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let dir = tempfile::tempdir().unwrap();
        let admin = String::from_utf8(
            run(&["admin", "create-token", "--name", "t"], &[("DATABASE_URL", &url)]).stdout,
        ).unwrap().trim().to_string();
        // Every spelling of the proxy variables reqwest and curl read.
        let server = Server::start(&[
            ("DATABASE_URL", url.as_str()),
            ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"),
            ("LEADROUTER_DELIVERY_TIMEOUT", "2s"),
            ("HTTPS_PROXY", proxy.url.as_str()), ("https_proxy", proxy.url.as_str()),
            ("ALL_PROXY", proxy.url.as_str()), ("all_proxy", proxy.url.as_str()),
            ("HTTP_PROXY", proxy.url.as_str()), ("http_proxy", proxy.url.as_str()),
        ], dir.path());
        let client = reqwest::Client::builder().no_proxy().build().unwrap();
        let admin_post = |path: &str, body: Value| {
            client.post(format!("{}{path}", server.base)).bearer_auth(&admin).json(&body).send()
        };
        let p: Value = admin_post("/api/admin/partners", json!({"name": "Direct", "country": "germany",
            "niche": "forex", "daily_limit": 10, "premium_ratio": 50,
            "webhook_url": rx.url("127.0.0.1", "/leads")})).await.unwrap().json().await.unwrap();
        // The test endpoint goes through the same client.
        let test: Value = admin_post(&format!("/api/admin/partners/{}/test", p["id"]), json!({}))
            .await.unwrap().json().await.unwrap();
        assert_eq!(test["attempt"]["status_code"], 200, "{test}");
        let source: Value = admin_post("/api/admin/sources", json!({"name": "S", "kind": "webhook"}))
            .await.unwrap().json().await.unwrap();
        let r = client.post(format!("{}/api/webhook/{}", server.base, source["token"].as_str().unwrap()))
            .json(&guide_lead()).send().await.unwrap();
        assert_eq!(r.status(), 202);
        crate::support::eventually("the lead delivered directly", || async {
            (rx.requests().len() == 2).then_some(())
        }).await;
        assert_eq!(proxy.seen(), Vec::<String>::new(), "the proxy saw a request");
        let (code, _) = server.terminate();
        assert_eq!(code, Some(0));
    }
}

both_backends! {
    async fn a_graph_api_behind_a_private_ca_is_trusted_through_the_extra_roots_only(db) {
        use crate::facebook::{facebook_app_with, notification, post_signed};
        use crate::support::fake_graph::FakeGraph;
        use leadrouter_core::signing::facebook_signature;
        let graph = FakeGraph::start().await;
        graph.add("7001", 0, json!([{"name": "email", "values": ["ca@example.com"]},
            {"name": "country", "values": ["DE"]}]));
        // No LEADROUTER_EXTRA_ROOT_CERTS: the Graph API's certificate is not trusted, and
        // the recorded error says why, not just "error sending request".
        let (app, token) = facebook_app_with(db, &graph, &[]).await;
        let body = notification(&["7001"]);
        let r = post_signed(&app, &token, body.clone(),
            Some(facebook_signature("fb-app-secret-1", &body))).await;
        assert_eq!(r.status(), 200);
        let rejected = crate::support::eventually("the fetch failed for good", || async {
            let (_, r) = app.get("/api/admin/rejected-submissions").await;
            r["rejected_submissions"].as_array().unwrap().first().cloned()
        }).await;
        let reason = rejected["reason"]["facebook"].as_str().unwrap_or_default().to_string();
        assert!(reason.contains("invalid peer certificate") && reason.contains("UnknownIssuer"),
            "{rejected}");
        assert!(!reason.contains("EAAB"), "the access token stays out of errors: {reason}");
        assert!(graph.hits("7001").is_empty(), "no request got through: {:?}", graph.hits("7001"));
        app.stop().await;
    }
}

both_backends! {
    async fn a_request_that_cannot_be_built_fails_at_once_instead_of_retrying(db) {
        let url = db.url.clone();
        let app = delivering(db, &[("LEADROUTER_RETRY_SCHEDULE", "1h")]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let p = partner(&app, "Broken credential", &rx.url("partner.test", "/leads"),
            json!({"auth": {"type": "bearer", "token": "fine"}})).await;
        // A credential stored before it was checked (an older release wrote such rows).
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(url.expose()).await.unwrap();
        sqlx::query("UPDATE partners SET auth = $1 WHERE id = $2")
            .bind(json!({"type": "bearer", "token": "a\r\nX-Injected: 1"}).to_string())
            .bind(p["id"].as_i64().unwrap())
            .execute(&pool).await.unwrap();
        pool.close().await;
        let token = webhook_source(&app).await;
        let (status, answer) = app.send_lead(&token, guide_lead()).await;
        assert_eq!(status, 202);
        // No retry in an hour: the delivery ends rejected now and the lead has nowhere left.
        let lead = lead_in(&app, &answer["lead_id"], "failed").await;
        let d = &lead["deliveries"][0];
        assert_eq!(d["status"], "rejected", "{lead}");
        assert_eq!(d["attempts"].as_array().unwrap().len(), 1);
        let error = d["attempts"][0]["error"].as_str().unwrap();
        assert!(error.contains("could not be built"), "{error}");
        assert!(rx.requests().is_empty());
        app.stop().await;
    }
}

async fn rejections(app: &TestApp) -> Vec<Value> {
    app.get("/api/admin/rejected-submissions?limit=100").await.1["rejected_submissions"]
        .as_array()
        .unwrap()
        .clone()
}

async fn post_raw(app: &TestApp, token: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/webhook/{token}")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

both_backends! {
    async fn control_characters_are_refused_by_field_and_every_refusal_is_recorded(db) {
        let app = TestApp::spawn(db).await;
        let token = webhook_source(&app).await;
        let ok = || json!({"email": "nul@example.com", "country": "de", "niche": "forex"});
        let with = |k: &str, v: &str| { let mut l = ok(); l[k] = json!(v); l };
        let cases = [
            (with("first_name", "Ab\u{0}cd"), "first_name"),
            (with("external_id", "ext\u{0}1"), "external_id"),
            (with("source", "fb\u{1b}[31m"), "source"),
            (with("notes", "line one\u{0}"), "notes"),
        ];
        // Sent together, so that they share group commits with good leads.
        let good: Vec<_> = (0..8).map(|i| app.send_lead(&token, json!({
            "email": format!("good{i}@example.com"), "country": "de", "niche": "forex"}))).collect();
        let bad: Vec<_> = cases.iter().map(|(l, _)| app.send_lead(&token, l.clone())).collect();
        let (good, bad) = tokio::join!(futures::future::join_all(good), futures::future::join_all(bad));
        assert!(good.iter().all(|(s, _)| *s == 202), "{good:?}");
        for ((status, answer), (_, field)) in bad.iter().zip(&cases) {
            assert_eq!(*status, 422, "{field}: {answer}");
            assert_eq!(answer["error"]["fields"][field],
                "must not contain control characters (found U+0000)".replace("0000",
                    if *field == "source" { "001B" } else { "0000" }), "{answer}");
        }
        // A form field, and an unparseable body with a raw NUL byte.
        let (status, answer) = post_raw(&app, &token, "application/x-www-form-urlencoded",
            b"email=form%40example.com&country=de&niche=forex&last_name=Sm%00ith".to_vec()).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["error"]["fields"]["last_name"].as_str().unwrap().contains("U+0000"));
        let (status, answer) = post_raw(&app, &token, "application/json", b"{\"email\": \"x\x00\xff".to_vec()).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["error"]["fields"]["body"].as_str().unwrap().starts_with("is not valid JSON"));
        // An Idempotency-Key that is refused is recorded too.
        let r = app.client.post(app.url(&format!("/api/webhook/{token}")))
            .header("idempotency-key", "x".repeat(201)).json(&ok()).send().await.unwrap();
        assert_eq!(r.status(), 422);

        let recorded = rejections(&app).await;
        assert_eq!(recorded.len(), 7, "every refusal is recorded: {recorded:?}");
        assert!(recorded.iter().any(|r| r["body"] == "{\"email\": \"x\\0\\xFF"), "{recorded:?}");
        assert!(recorded.iter().any(|r| r["reason"]["Idempotency-Key"].is_string()));
        let (_, leads) = app.get("/api/admin/leads?limit=100").await;
        assert_eq!(leads["leads"].as_array().unwrap().len(), 8, "the good leads of the batch are all stored");

        // Operators' text too: a source label with a NUL is a 422 naming it.
        let (status, answer) = app.post("/api/admin/sources",
            json!({"name": "S2", "kind": "webhook", "source_label": "lp\u{0}de"})).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["error"]["fields"]["source_label"].as_str().unwrap().contains("U+0000"));
        let (status, answer) = app.post("/api/admin/partners", json!({"name": "P\u{0}", "country": "germany",
            "niche": "forex", "webhook_url": "https://fxpartners.com/api/leads"})).await;
        assert_eq!(status, 422, "{answer}");
        assert!(answer["error"]["fields"]["name"].as_str().unwrap().contains("U+0000"));
        app.stop().await;
    }
}

both_backends! {
    async fn refused_bodies_are_kept_only_as_far_as_they_deserve(db) {
        use crate::facebook::{facebook_app_with, notification, post_signed};
        use crate::support::fake_graph::FakeGraph;
        let graph = FakeGraph::start().await;
        let (app, fb_token) = facebook_app_with(db, &graph, &[]).await;
        // Unauthenticated: a bad signature keeps the reason, not the body.
        let body = notification(&["8001"]);
        let r = post_signed(&app, &fb_token, body, Some("sha256=00".into())).await;
        assert_eq!(r.status(), 401);
        let recorded = rejections(&app).await;
        assert_eq!(recorded.len(), 1);
        assert_eq!(recorded[0]["body"], "", "{recorded:?}");
        assert!(recorded[0]["reason"]["X-Hub-Signature-256"].is_string());
        // A source's refused body is kept up to 16 KiB, and says what was cut.
        let token = webhook_source(&app).await;
        let junk = format!("{{\"email\": \"{}\"", "j".repeat(40_000));
        let (status, _) = post_raw(&app, &token, "application/json", junk.into_bytes()).await;
        assert_eq!(status, 422);
        let recorded = rejections(&app).await;
        let kept = recorded[0]["body"].as_str().unwrap();
        assert!(kept.len() < 16 * 1024 + 100, "{}", kept.len());
        assert!(kept.ends_with("more bytes not kept]"), "{}", &kept[kept.len() - 60..]);
        app.stop().await;
    }
}

both_backends! {
    async fn a_partner_sees_only_its_own_part_of_a_leads_history(db) {
        use crate::support::receiver::Reply;
        let app = delivering(db, &[]).await;
        let refusing = Receiver::start("127.0.0.1").await;
        refusing.otherwise(Reply::Status(400));
        let taking = Receiver::start("127.0.0.1").await;
        // The second partner is closed at first, so the first one is tried first.
        let first = partner(&app, "Refusing Partner GmbH", &refusing.url("partner.test", "/a"), json!({})).await;
        let second = partner(&app, "Taking Partner", &taking.url("second.test", "/b"),
            json!({"business_hours": {}})).await;
        let token = webhook_source(&app).await;
        let (_, r) = app.send_lead(&token, guide_lead()).await;
        let id = r["lead_id"].clone();
        lead_in(&app, &id, "held").await;
        let (status, _) = app.patch(&format!("/api/admin/partners/{}", second["id"]),
            json!({"business_hours": null})).await;
        assert_eq!(status, 200);
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(lead["partner_id"], second["id"]);
        assert_eq!(lead["deliveries"].as_array().unwrap().len(), 2, "{lead}");

        let r = app.client.get(app.url(&format!("/api/lead/{id}/status")))
            .bearer_auth(second["api_key"].as_str().unwrap()).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        let history = body["lead"]["status_history"].as_array().unwrap().clone();
        let statuses: Vec<&str> = history.iter().map(|h| h["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["queued", "assigned", "delivered"], "{history:?}");
        let text = body.to_string();
        for leak in ["rejected", "Refusing", &format!("partner {}", first["id"]), "routing again"] {
            assert!(!text.contains(leak), "{leak} leaked: {text}");
        }
        assert!(history.iter().all(|h| h.get("detail").is_none()), "no free text: {history:?}");
        app.stop().await;
    }
}

both_backends! {
    async fn the_guides_phone_reaches_partners_in_each_of_the_guides_formats(db) {
        // The same phone three times: dedupe off, so each is a lead of its own.
        let app = delivering(db, &[("LEADROUTER_DEDUPE_WINDOW", "0")]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let mut want = std::collections::BTreeMap::new();
        for (format, path, phone) in [
            ("International (+1234567890)", "/international", "+491234567890"),
            ("National", "/national", "491234567890"),
            ("Local", "/local", "49-123-456-7890"),
        ] {
            partner(&app, path, &rx.url("partner.test", path), json!({
                "Phone Format": format, "Required Fields": "name,email,phone,country"})).await;
            want.insert(path.to_string(), phone.to_string());
        }
        let token = webhook_source(&app).await;
        for i in 0..3 {
            let mut lead = guide_lead();
            lead["email"] = json!(format!("john{i}@email.com"));
            let (status, r) = app.send_lead(&token, lead).await;
            assert_eq!(status, 202, "{r}");
            lead_in(&app, &r["lead_id"], "delivered").await;
        }
        let got: std::collections::BTreeMap<String, String> = rx.requests().iter().map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            (r.path.clone(), body["phone"].as_str().unwrap().to_string())
        }).collect();
        assert_eq!(got, want, "one lead each (lowest count first), in its own format");
        app.stop().await;
    }
}
