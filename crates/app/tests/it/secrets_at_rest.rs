//! Partners' credentials and Facebook tokens sealed with `LEADROUTER_SECRET_KEY`: the
//! bearer token is nowhere in the database (every text column scanned; on SQLite the file
//! itself too), deliveries still carry it; credentials stored before the key was set are
//! sealed at start; a wrong key, or no key for sealed values, is a clear start-up error.
//! On both backends.

use crate::support::receiver::{tls, Receiver};
use crate::support::{test_config, TestApp};
use leadrouter_store::testing::TestDatabase;
use serde_json::json;

const KEY_A: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const KEY_B: &str = "HyAhIiMkJSYnKCkqKywtLi8wMTIzNDU2Nzg5Ojs8PT4=";
const TOKEN: &str = "partner-bearer-Zq81x7";

async fn partner_with_a_token(app: &TestApp, rx: &Receiver) -> i64 {
    let (s, p) = app
        .post(
            "/api/admin/partners",
            json!({"name": "Sealed", "country": "germany", "niche": "forex",
        "webhook_url": rx.url("partner.test", "/in"), "auth": {"type": "bearer", "token": TOKEN}}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    p["id"].as_i64().unwrap()
}

fn vars(key: Option<&'static str>, ca: &str) -> Vec<(&'static str, String)> {
    let mut v = vec![
        ("LEADROUTER_DELIVERY", "on".to_string()),
        ("LEADROUTER_EXTRA_ROOT_CERTS", ca.to_string()),
        ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32".to_string()),
    ];
    if let Some(k) = key {
        v.push(("LEADROUTER_SECRET_KEY", k.to_string()));
    }
    v
}

both_backends! {
    async fn with_a_secret_key_the_token_is_sealed_and_still_sent(db) {
        let url = db.url.clone();
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let rx = Receiver::start("127.0.0.1").await;
        // Stored in the clear first, with no key.
        let plain = vars(None, &ca);
        let plain: Vec<(&str, &str)> = plain.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut app = TestApp::spawn_with(db, &plain).await;
        partner_with_a_token(&app, &rx).await;
        assert_eq!(app.store.text_containing_for_tests(TOKEN).await, vec!["partners.auth".to_string()]);
        // (The keyless instance stops: it could no longer read what the next one seals.)
        app.stop_tasks_only().await;
        // With the key, the stored token is sealed at start, and new ones are written sealed.
        let sealed = vars(Some(KEY_A), &ca);
        let sealed: Vec<(&str, &str)> = sealed.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let keyed = app.another_instance(&sealed).await;
        partner_with_a_token(&keyed, &rx).await;
        assert_eq!(keyed.store.text_containing_for_tests(TOKEN).await, Vec::<String>::new(), "no column holds the token");
        if url.expose().starts_with("sqlite") {
            keyed.store.checkpoint_for_tests().await;
            let path = url.expose().trim_start_matches("sqlite://").split('?').next().unwrap().to_string();
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(TOKEN.len()).any(|w| w == TOKEN.as_bytes()), "the token is in the database file");
        }
        // Deliveries still carry it.
        let (_, token) = keyed.source(json!({"name": "S", "kind": "webhook"})).await;
        let (s, _) = keyed.send_lead(&token, json!({"email": "a@example.de", "country": "de", "niche": "forex"})).await;
        assert_eq!(s, 202);
        keyed.run_until_idle().await;
        let req = rx.requests().last().cloned().expect("a delivery");
        assert_eq!(req.headers["authorization"], format!("Bearer {TOKEN}"));

        // Another key, or none, does not start.
        for (key, says) in [(Some(KEY_B), "does not open"), (None, "set LEADROUTER_SECRET_KEY")] {
            let v = vars(key, &ca);
            let v: Vec<(&str, &str)> = v.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let e = leadrouter::startup::open_store(&test_config(&url, &v)).await.expect_err("refused");
            assert!(e.to_string().contains(says), "{e}");
        }
        keyed.stop().await;
        app.stop().await;
    }
}

#[test]
fn a_secret_key_that_is_not_32_bytes_of_base64_is_a_configuration_error() {
    let db = TestDatabase::sqlite();
    let r = leadrouter::config::Config::from_lookup(|k| match k {
        "DATABASE_URL" => Some(db.url.expose().to_string()),
        "LEADROUTER_SECRET_KEY" => Some("too short".into()),
        _ => None,
    });
    let e = r.expect_err("refused");
    assert!(
        e.to_string()
            .contains("LEADROUTER_SECRET_KEY: must be 32 bytes in base64"),
        "{e}"
    );
}
