//! Erasure leaves nothing of the person behind, in any spelling: not in a refused form post
//! (`%40`), not in a refused body spelling the phone another way, not in a partner's
//! conversion id, a consent text naming them, or a failing partner's mail quoting their
//! lead; on SQLite not even in the file's free space or its log. Retention clears such
//! mails too, and erased leads' keyed hashes go once dedupe no longer needs them.

use crate::support::receiver::{tls, Receiver, Reply};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

/// Every spelling of Erika's values that must be gone.
const SPELLINGS: [&str; 14] = [
    "erika.m@example.com",
    "Erika.M@example.com",
    "erika.m%40example.com",
    "Erika",
    "erika",
    "ERIKA",
    "Mustermann",
    "mustermann",
    "+4915198765432",
    "4915198765432",
    "015198765432",
    "151 9876 5432",
    "151 98765432",
    "Haus am See",
];

async fn app_with(
    db: leadrouter_store::testing::TestDatabase,
    clock: Option<Arc<ManualClock>>,
    extra: &[(&str, &str)],
) -> TestApp {
    let ca = tls().ca_file.to_str().unwrap().to_string();
    let mut vars = vec![
        ("LEADROUTER_DELIVERY", "on"),
        ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
        ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"),
        ("LEADROUTER_RETRY_SCHEDULE", "1ms,1ms,1ms"),
        ("LEADROUTER_DEDUPE_WINDOW", "0"),
    ];
    vars.extend_from_slice(extra);
    match clock {
        Some(c) => TestApp::spawn_at(db, &vars, c).await,
        None => TestApp::spawn_with(db, &vars).await,
    }
}

/// A partner whose endpoint answers 500, echoing the person (as CRMs do).
const ECHO: &str = r#"{"error": "Erika Mustermann <erika.m@example.com> already exists"}"#;

/// Where any spelling is still in the database's text columns.
async fn left_in_columns(app: &TestApp) -> Vec<(String, Vec<String>)> {
    let mut left = Vec::new();
    for needle in SPELLINGS {
        let found = app.store.text_containing_for_tests(needle).await;
        if !found.is_empty() {
            left.push((needle.to_string(), found));
        }
    }
    left
}

/// On SQLite: the spellings found anywhere in the database file and its log, byte by
/// byte (free pages and slack included).
fn left_in_file(path: &str) -> Vec<String> {
    let mut bytes = Vec::new();
    for p in [path.to_string(), format!("{path}-wal")] {
        if let Ok(b) = std::fs::read(&p) {
            bytes.extend(b);
        }
    }
    let lower: Vec<u8> = bytes.iter().map(u8::to_ascii_lowercase).collect();
    SPELLINGS
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .filter(|s| lower.windows(s.len()).any(|w| w == s.as_bytes()))
        .collect()
}

both_backends! {
    async fn after_erasure_no_spelling_of_the_person_is_left_anywhere(db) {
        let file = db.url.expose().strip_prefix("sqlite://").map(str::to_string);
        let app = app_with(db, None, &[]).await;
        let failing = Receiver::start("127.0.0.1").await;
        failing.otherwise(Reply::Body(500, ECHO.into()));
        let good = Receiver::start("127.0.0.1").await;
        let (s, f) = app.post("/api/admin/partners", json!({"name": "Failing FX", "email": "ops@failing.example",
            "country": "germany", "niche": "forex", "webhook_url": failing.url("partner.test", "/in")})).await;
        assert_eq!(s, 201, "{f}");
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let lead = |extra: Value| {
            let mut l = json!({"first_name": "Erika", "last_name": "Mustermann", "email": "Erika.M@example.com",
                "phone": "+49 151 98765432", "country": "de", "niche": "forex", "street": "Haus am See 1",
                "external_id": "lp-erika.m@example.com",
                "consent": {"text": "I, Erika Mustermann (erika.m@example.com), agree to be called.",
                            "page_url": "https://lp.example/t?email=erika.m%40example.com"}});
            for (k, v) in extra.as_object().unwrap() { l[k] = v.clone(); }
            l
        };
        // The first lead goes to the failing partner: its answer, echoing her, is quoted in
        // the "failing" mail.
        let (s, r) = app.send_lead(&token, lead(json!({}))).await;
        assert_eq!(s, 202, "{r}");
        app.run_until_idle().await;
        assert!(failing.requests().len() >= 3);
        let (_, mails) = app.get("/api/admin/notifications?kind=partner_failing").await;
        assert!(mails["notifications"][0]["text"].as_str().unwrap().contains("erika.m@example.com"), "{mails}");
        // The second goes to a partner that takes it and reports a sale keyed by her e-mail.
        let fid = f["id"].as_i64().unwrap();
        assert_eq!(app.post(&format!("/api/admin/partners/{fid}/pause"), json!({})).await.0, 200);
        let (_, g) = app.post("/api/admin/partners", json!({"name": "Good FX", "country": "germany", "niche": "forex",
            "webhook_url": good.url("partner.test", "/in")})).await;
        let (s, r) = app.send_lead(&token, lead(json!({"external_id": "lp-2"}))).await;
        assert_eq!(s, 202, "{r}");
        let second = r["lead_id"].as_i64().unwrap();
        app.run_until_idle().await;
        assert_eq!(good.requests().len(), 1);
        let r = app.client.post(app.url(&format!("/api/conversion/{}", g["id"])))
            .header("x-api-key", g["api_key"].as_str().unwrap())
            .json(&json!({"lead_id": second, "conversion_type": "sale", "conversion_value": 250,
                          "external_transaction_id": "erika.m@example.com-1"}))
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
        // Refused: a landing page's form post (the e-mail as %40), and a body with only her
        // name and her phone spelled with spaces.
        let r = app.client.post(app.url(&format!("/api/webhook/{token}")))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("first_name=Erika&last_name=Mustermann&email=erika.m%40example.com&phone=12&country=germany&niche=forex")
            .send().await.unwrap();
        assert!(r.status().is_client_error() || r.status().is_redirection(), "{}", r.status());
        let (s, _) = app.send_lead(&token, json!({"name": "Erika Mustermann", "phone": "+49 151 9876 5432", "country": "atlantis"})).await;
        assert_eq!(s, 422);
        app.run_until_idle().await;
        let before: Vec<String> = left_in_columns(&app).await.into_iter().map(|(n, _)| n).collect();
        for seen in ["erika.m@example.com", "erika.m%40example.com", "Mustermann", "4915198765432", "151 9876 5432", "Haus am See"] {
            assert!(before.iter().any(|n| n == seen), "the scan sees {seen} before: {before:?}");
        }

        let (s, r) = app.post("/api/admin/privacy/erase", json!({"email": "erika.m@example.com", "phone": "+4915198765432"})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["erased_leads"], 2, "{r}");
        app.run_until_idle().await;

        assert_eq!(left_in_columns(&app).await, Vec::<(String, Vec<String>)>::new(), "nothing in any column");
        let (_, lead) = app.get(&format!("/api/admin/leads/{second}")).await;
        assert_eq!(lead["consent"]["text"], "(erased: the text named the person)", "{lead}");
        assert_eq!(lead["conversions"][0]["conversion_type"], "sale", "the sale still counts: {lead}");
        if let Some(path) = file {
            app.store.checkpoint_for_tests().await;
            assert_eq!(left_in_file(&path), Vec::<String>::new(), "nothing in the file's pages");
        }
        app.stop().await;
    }
}

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

both_backends! {
    async fn retention_clears_the_mails_that_quote_a_lead_and_old_hashes_are_forgotten(db) {
        let clock = Arc::new(ManualClock::at(at("2026-11-01T10:00:00Z")));
        let app = app_with(db, Some(clock.clone()), &[("LEADROUTER_RETENTION", "2d"), ("LEADROUTER_DEDUPE_WINDOW", "1d")]).await;
        let failing = Receiver::start("127.0.0.1").await;
        failing.otherwise(Reply::Body(500, ECHO.into()));
        let (s, f) = app.post("/api/admin/partners", json!({"name": "Failing FX", "email": "ops@failing.example",
            "country": "germany", "niche": "forex", "webhook_url": failing.url("partner.test", "/in")})).await;
        assert_eq!(s, 201, "{f}");
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (s, r) = app.send_lead(&token, json!({"first_name": "Erika", "email": "erika.m@example.com",
            "country": "de", "niche": "forex"})).await;
        assert_eq!(s, 202, "{r}");
        let id = r["lead_id"].as_i64().unwrap();
        // The retries, one clock step at a time, until the third failure's mail.
        for _ in 0..5 {
            app.run_until_idle().await;
            clock.advance(1_000);
        }
        app.run_until_idle().await;
        assert!(!app.store.text_containing_for_tests("erika.m@example.com").await.is_empty());
        let (_, mails) = app.get("/api/admin/notifications?kind=partner_failing").await;
        assert_eq!(mails["notifications"].as_array().unwrap().len(), 1, "{mails}");

        // Three days on: the lead is past retention, and so is every mail that quoted it.
        clock.set(at("2026-11-04T10:00:00Z"));
        app.run_until_idle().await;
        let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        assert!(lead["erased_at"].is_string(), "{lead}");
        assert_eq!(app.store.text_containing_for_tests("erika.m@example.com").await, Vec::<String>::new());
        assert_eq!(app.store.text_containing_for_tests("Erika").await, Vec::<String>::new());
        // Past the dedupe window, the erased lead's keyed hashes serve nothing: gone at the
        // job's next look.
        assert_eq!(app.store.count_where_for_tests("leads", "email_hash IS NOT NULL").await, 1);
        clock.advance(5 * 60_000);
        app.run_until_idle().await;
        assert_eq!(app.store.count_where_for_tests("leads", "email_hash IS NOT NULL").await, 0);
        app.stop().await;
    }
}
