//! Data protection: consent evidence kept with a lead (one stored text per distinct text)
//! and exported; erasure by e-mail that leaves no personal value anywhere in the database,
//! keeps the figures and dedupe, and tells the partner by mail and by a signed `lead.erased`
//! request its Standard Webhooks library verifies; retention with the manual clock. On
//! both backends.

use crate::support::fake_postmark::FakePostmark;
use crate::support::receiver::{tls, Receiver, Reply};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

const TEXT: &str =
    "Ich willige ein, von Berlin Buyers telefonisch zu Anlageangeboten kontaktiert zu werden.";

async fn delivering_app(
    db: leadrouter_store::testing::TestDatabase,
    extra: &[(&'static str, String)],
) -> TestApp {
    let ca = tls().ca_file.to_str().unwrap().to_string();
    let mut vars: Vec<(&str, String)> = vec![
        ("LEADROUTER_DELIVERY", "on".into()),
        ("LEADROUTER_EXTRA_ROOT_CERTS", ca),
        ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32".into()),
    ];
    vars.extend(extra.iter().cloned());
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    TestApp::spawn_with(db, &vars).await
}

both_backends! {
    async fn a_lead_with_consent_reads_back_with_it_and_its_evidence_names_where_it_went(db) {
        let app = delivering_app(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Berlin Buyers", "country": "germany",
            "niche": "forex", "webhook_url": rx.url("partner.test", "/in")})).await;
        assert_eq!(s, 201, "{p}");
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (s, r) = app.send_lead(&token, json!({"email": "anna@example.de", "country": "de", "niche": "forex",
            "consent": {"text": TEXT, "version": "v7", "given_at": "2026-11-30T08:15:00Z", "ip": "203.0.113.9",
                        "user_agent": "Mozilla/5.0 (X11)", "page_url": "https://lp.example/forex"}})).await;
        assert_eq!(s, 202, "{r}");
        let first = r["lead_id"].as_i64().unwrap();
        // The same text again, as flat fields: stored once.
        let (s, r) = app.send_lead(&token, json!({"email": "bert@example.de", "country": "de", "niche": "forex",
            "consent_text": TEXT, "consent_at": "2026-11-30T09:00:00+01:00", "ip_address": "2001:db8::1"})).await;
        assert_eq!(s, 202, "{r}");
        let second = r["lead_id"].as_i64().unwrap();
        app.run_until_idle().await;

        let (_, lead) = app.get(&format!("/api/admin/leads/{first}")).await;
        let c = &lead["consent"];
        assert_eq!(c["text"], TEXT);
        assert_eq!(c["text_sha256"], leadrouter_core::consent::text_sha256(TEXT));
        assert_eq!((c["version"].as_str(), c["ip"].as_str()), (Some("v7"), Some("203.0.113.9")));
        assert_eq!(c["given_at"], "2026-11-30T08:15:00.000Z");
        assert_eq!(c["user_agent"], "Mozilla/5.0 (X11)");
        assert_eq!(c["page_url"], "https://lp.example/forex");
        assert!(lead["custom_fields"].as_object().unwrap().is_empty(), "consent is not a custom field: {lead}");
        let (_, lead2) = app.get(&format!("/api/admin/leads/{second}")).await;
        assert_eq!(lead2["consent"]["text"], TEXT);
        assert_eq!(lead2["consent"]["ip"], "2001:db8::1");
        assert_eq!(lead2["consent"]["given_at"], "2026-11-30T08:00:00.000Z");
        assert_eq!(app.store.text_containing_for_tests("telefonisch zu Anlageangeboten").await,
            vec!["consent_texts.text".to_string()], "the text is kept once, apart from the leads");

        let ev = app.admin_get(&format!("/api/admin/leads/{first}/evidence")).await;
        assert_eq!(ev.status(), 200);
        assert!(ev.headers()["content-disposition"].to_str().unwrap().contains(&format!("lead-{first}-evidence.json")));
        let ev: Value = ev.json().await.unwrap();
        assert_eq!(ev["consent"]["text"], TEXT);
        assert_eq!(ev["lead"]["email"], "anna@example.de");
        let d = &ev["deliveries"][0];
        assert_eq!((d["partner_name"].as_str(), d["status"].as_str()), (Some("Berlin Buyers"), Some("delivered")));
        assert_eq!(d["attempts"][0]["status_code"], 200);
        // What was sent, exactly: in the evidence and on the console's lead page.
        let sent: Value = serde_json::from_str(d["attempts"][0]["request_body"].as_str().expect("the body sent")).unwrap();
        assert_eq!(sent["email"], "anna@example.de");
        let mut c = crate::support::console::Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = c.get(&format!("/admin/leads/{first}")).await;
        assert!(page.body.contains("Body sent"), "{}", page.body);
        let shown: Value = serde_json::from_str(&page.text("details.sent pre.payload").expect("the body on the page")).unwrap();
        assert_eq!(shown, sent);

        // Bad evidence is refused field by field, and recorded.
        let (s, r) = app.send_lead(&token, json!({"email": "c@example.de", "country": "de", "niche": "forex",
            "consent": {"text": TEXT, "ip": "not-an-ip", "given_at": "gestern"}})).await;
        assert_eq!(s, 422, "{r}");
        assert_eq!(r["error"]["fields"]["consent.ip"], "must be an IPv4 or IPv6 address");
        assert!(r["error"]["fields"]["consent.given_at"].as_str().unwrap().starts_with("must be a time"));
        let (s, r) = app.send_lead(&token, json!({"email": "d@example.de", "country": "de", "niche": "forex",
            "ip_address": "203.0.113.9"})).await;
        assert_eq!(s, 422, "{r}");
        assert!(r["error"]["fields"]["consent_text"].as_str().unwrap().starts_with("is required"));
        app.stop().await;
    }
}

/// Every text column of every table, for each personal value of the erased person.
async fn personal_values_left(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let mut left = Vec::new();
    for needle in [
        "zoltan.quaxley@example.de",
        "Zoltan.Quaxley",
        "4915123456789",
        "151 23456789",
        "Zoltan",
        "zoltan",
        "Quaxley",
        "Quaxhausen",
        "203.0.113.77",
        "QuaxBrowser",
    ] {
        let found = app.store.text_containing_for_tests(needle).await;
        if !found.is_empty() {
            left.push((needle.to_string(), found));
        }
    }
    left
}

both_backends! {
    async fn erasing_by_email_leaves_no_personal_value_and_tells_the_partner(db) {
        let pm = FakePostmark::start().await;
        let app = delivering_app(db, &pm.env()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Berlin Buyers", "email": "ops@berlin.example",
            "country": "germany", "niche": "forex", "webhook_url": rx.url("partner.test", "/in"),
            "erasure_webhook_url": rx.url("partner.test", "/erased")})).await;
        assert_eq!(s, 201, "{p}");
        let secret = p["signing_secret"].as_str().unwrap().to_string();
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (s, r) = app.send_lead(&token, json!({"first_name": "Zoltan", "last_name": "Quaxley",
            "email": "Zoltan.Quaxley@example.de", "phone": "+49 151 23456789", "country": "de", "niche": "forex",
            "external_id": "lp-zoltan.quaxley@example.de",
            "city": "Quaxhausen", "consent": {"text": TEXT, "ip": "203.0.113.77", "user_agent": "QuaxBrowser/1.0",
            "page_url": "https://lp.example/thanks?email=zoltan.quaxley@example.de"}})).await;
        assert_eq!(s, 202, "{r}");
        let id = r["lead_id"].as_i64().unwrap();
        // A refused submission with the same person in it.
        let (s, _) = app.send_lead(&token, json!({"email": "zoltan.quaxley@example.de", "country": "atlantis"})).await;
        assert_eq!(s, 422);
        app.run_until_idle().await;
        assert_eq!(rx.requests().iter().filter(|r| r.path == "/in").count(), 1, "delivered");
        assert!(!personal_values_left(&app).await.is_empty(), "the scan finds the person before erasure");
        let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
        let figures = format!("/api/admin/analytics?from={day}&to={day}");
        let (_, before) = app.get(&figures).await;
        assert_eq!(before["totals"]["delivered"], 1, "{before}");

        let (s, r) = app.post("/api/admin/privacy/erase", json!({"email": " ZOLTAN.quaxley@example.de "})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["erased_leads"].as_i64(), r["notified_partners"].as_i64()), (Some(1), Some(1)), "{r}");
        assert_eq!(r["unnotified_partners"], 0);
        app.run_until_idle().await;

        assert_eq!(personal_values_left(&app).await, Vec::<(String, Vec<String>)>::new(), "nothing personal is left");
        let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        for f in ["first_name", "last_name", "name", "email", "phone"] {
            assert!(lead[f].is_null(), "{f}: {lead}");
        }
        assert!(lead["custom_fields"].as_object().unwrap().is_empty());
        assert!(lead["consent"]["ip"].is_null() && lead["consent"]["user_agent"].is_null());
        assert_eq!(lead["consent"]["text"], TEXT, "the text agreed to is not personal");
        assert_eq!(lead["consent"]["page_url"], "https://lp.example/thanks");
        assert!(lead["erased_at"].is_string());
        assert_eq!((lead["status"].as_str(), lead["country"].as_str()), (Some("delivered"), Some("germany")));
        let (_, after) = app.get(&figures).await;
        assert_eq!(after["totals"], before["totals"], "the lead still counts");

        // The partner is told: a signed lead.erased request, and a mail naming only ids.
        let erased: Vec<_> = rx.requests().into_iter().filter(|r| r.path == "/erased").collect();
        assert_eq!(erased.len(), 1);
        standardwebhooks::Webhook::new(&secret).unwrap().verify(&erased[0].body, &erased[0].headers)
            .expect("the Standard Webhooks library verifies the notice");
        let body: Value = serde_json::from_slice(&erased[0].body).unwrap();
        assert_eq!(body["type"], "lead.erased");
        assert_eq!(body["lead_ids"], json!([id.to_string()]));
        assert!(body["erased_at"].is_string());
        let mails = pm.tagged("erasure_notice");
        assert_eq!(mails.len(), 1);
        assert_eq!(mails[0]["To"], "ops@berlin.example");
        let text = mails[0]["TextBody"].as_str().unwrap();
        assert!(text.contains(&id.to_string()) && !text.to_lowercase().contains("zoltan"), "{text}");
        let (_, notices) = app.get("/api/admin/privacy/notices").await;
        assert_eq!(notices["notices"][0]["status"], "sent", "{notices}");

        // Dedupe still knows the person.
        let (s, r) = app.send_lead(&token, json!({"email": "zoltan.quaxley@example.de", "country": "de", "niche": "forex"})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["status"].as_str(), r["duplicate_of"].as_i64()), (Some("duplicate"), Some(id)));
        let (s, r) = app.send_lead(&token, json!({"phone": "+4915123456789", "country": "de", "niche": "forex"})).await;
        assert_eq!((s, r["duplicate_of"].as_i64()), (200, Some(id)), "{r}");
        // The erasure is in the audit trail, without the person.
        let (_, audit) = app.get("/api/admin/audit?action=erase").await;
        assert_eq!(audit["entries"][0]["changes"]["erased_leads"]["after"], 1, "{audit}");
        // A request naming nobody is refused.
        let (s, r) = app.post("/api/admin/privacy/erase", json!({"phone": "0151 2345"})).await;
        assert_eq!(s, 422, "{r}");
        assert!(r["error"]["fields"]["phone"].is_string());
        app.stop().await;
    }
}

both_backends! {
    async fn retention_erases_a_lead_a_day_past_the_window_and_keeps_one_a_day_inside(db) {
        // A window of 2 days (the rule is the same for the default 365): the clock then moves
        // 3 days, not a year the analytics roll-up would have to catch up with.
        let clock = Arc::new(ManualClock::at(at("2026-11-01T10:00:00Z")));
        let app = TestApp::spawn_at(db, &[("LEADROUTER_RETENTION", "2d")], clock.clone()).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let mut ids = Vec::new();
        for (when, email) in [("2026-11-01T10:00:00Z", "old.person@example.de"), ("2026-11-03T10:00:00Z", "newer.person@example.de")] {
            clock.set(at(when));
            let (s, r) = app.send_lead(&token, json!({"email": email, "first_name": "Retained", "country": "de", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
            ids.push(r["lead_id"].as_i64().unwrap());
        }
        app.run_until_idle().await;
        // 3 days after the first, 1 after the second.
        clock.set(at("2026-11-04T10:00:00Z"));
        app.run_until_idle().await;
        let (_, old) = app.get(&format!("/api/admin/leads/{}", ids[0])).await;
        assert!(old["email"].is_null() && old["first_name"].is_null() && old["erased_at"].is_string(), "{old}");
        let (_, newer) = app.get(&format!("/api/admin/leads/{}", ids[1])).await;
        assert_eq!(newer["email"], "newer.person@example.de");
        assert!(newer["erased_at"].is_null());
        assert!(app.store.text_containing_for_tests("old.person@example.de").await.is_empty());
        let (_, notices) = app.get("/api/admin/privacy/notices").await;
        assert_eq!(notices["notices"], json!([]), "retention tells no partner");
        app.stop().await;
    }
}

both_backends! {
    async fn an_erasure_notice_refused_with_a_500_is_sent_again_on_the_retry_schedule(db) {
        let clock = Arc::new(ManualClock::at(at("2026-12-01T09:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"), ("LEADROUTER_RETRY_SCHEDULE", "10s,1m")], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Berlin Buyers", "country": "germany",
            "niche": "forex", "webhook_url": rx.url("partner.test", "/in"),
            "erasure_webhook_url": rx.url("partner.test", "/erased")})).await;
        assert_eq!(s, 201, "{p}");
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (s, r) = app.send_lead(&token, json!({"email": "paula@example.de", "country": "de", "niche": "forex"})).await;
        assert_eq!(s, 202, "{r}");
        app.run_until_idle().await;
        // The lead is taken; the first notice is answered 500.
        rx.script(vec![Reply::Status(500)]);
        let (s, r) = app.post("/api/admin/privacy/erase", json!({"email": "paula@example.de"})).await;
        assert_eq!((s, r["notified_partners"].as_i64()), (200, Some(1)), "{r}");
        app.run_until_idle().await;
        let erased = |rx: &Receiver| rx.requests().into_iter().filter(|r| r.path == "/erased").count();
        assert_eq!(erased(&rx), 1);
        let (_, n) = app.get("/api/admin/privacy/notices").await;
        assert_eq!((n["notices"][0]["status"].as_str(), n["notices"][0]["last_status"].as_i64()), (Some("pending"), Some(500)), "{n}");
        // Not before its time (10 s, the schedule jitters it by at most a fifth).
        clock.advance(5_000);
        app.run_until_idle().await;
        assert_eq!(erased(&rx), 1, "not again before the retry is due");
        clock.advance(10_000);
        app.run_until_idle().await;
        assert_eq!(erased(&rx), 2, "sent again on the retry schedule");
        let (_, n) = app.get("/api/admin/privacy/notices").await;
        assert_eq!((n["notices"][0]["status"].as_str(), n["notices"][0]["attempts"].as_i64()), (Some("sent"), Some(2)), "{n}");
        app.stop().await;
    }
}
