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

both_backends! {
    async fn every_stored_secret_is_sealed_with_a_key_and_signatures_still_verify(db) {
        let url = db.url.clone();
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let rx = Receiver::start("127.0.0.1").await;
        // A partner made before the key was set: its signing secret in the clear.
        let plain = vars(None, &ca);
        let plain: Vec<(&str, &str)> = plain.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut app = TestApp::spawn_with(db, &plain).await;
        let (_, before) = app.post("/api/admin/partners", json!({"name": "Early", "country": "austria", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/early")})).await;
        let early = before["signing_secret"].as_str().unwrap().to_string();
        assert_eq!(app.store.text_containing_for_tests(&early).await, vec!["partners.signing_secret".to_string()]);
        app.stop_tasks_only().await;

        let sealed = vars(Some(KEY_A), &ca);
        let sealed: Vec<(&str, &str)> = sealed.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let keyed = app.another_instance(&sealed).await;
        let (_, p) = keyed.post("/api/admin/partners", json!({"name": "Sealed", "country": "germany", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/in")})).await;
        let pid = p["id"].as_i64().unwrap();
        let first = p["signing_secret"].as_str().unwrap().to_string();
        let (s, r) = keyed.post(&format!("/api/admin/partners/{pid}/rotate-secret"), json!({})).await;
        assert_eq!(s, 200, "{r}");
        let current = r["signing_secret"].as_str().unwrap().to_string();
        // The contact key is made (an erasure-free ingest makes it) and sealed too.
        let (_, token) = keyed.source(json!({"name": "S", "kind": "webhook"})).await;
        let (s, _) = keyed.send_lead(&token, json!({"email": "a@example.de", "country": "de", "niche": "forex"})).await;
        assert_eq!(s, 202);
        keyed.run_until_idle().await;
        for secret in [&early, &first, &current] {
            let found = keyed.store.text_containing_for_tests(secret).await;
            assert_eq!(found, Vec::<String>::new(), "a signing secret stored in the clear");
            let body = secret.trim_start_matches("whsec_");
            assert_eq!(keyed.store.text_containing_for_tests(body).await, Vec::<String>::new());
        }
        assert_eq!(keyed.store.count_where_for_tests("server_keys", "value NOT LIKE 'sealed:%'").await, 0,
            "the contact key is sealed");
        // The delivery is signed with the current secret and the previous one, both opened.
        let req = rx.requests().into_iter().find(|r| r.path == "/in").expect("a delivery");
        for s in [&current, &first] {
            standardwebhooks::Webhook::new(s).unwrap().verify(&req.body, &req.headers)
                .expect("the partner's library verifies with its secret");
        }
        if url.expose().starts_with("sqlite") {
            keyed.store.checkpoint_for_tests().await;
            let path = url.expose().trim_start_matches("sqlite://").split('?').next().unwrap().to_string();
            let bytes = std::fs::read(&path).unwrap();
            assert!(!bytes.windows(current.len()).any(|w| w == current.as_bytes()), "the secret is in the file");
        }
        keyed.stop().await;
        app.stop().await;
    }
}

/// The configuration from exactly these variables (no test defaults).
fn bare_config(vars: &[(&str, &str)]) -> leadrouter::config::Config {
    let map: std::collections::HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    leadrouter::config::Config::from_lookup(|k| map.get(k).cloned()).expect("a valid configuration")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_on_postgresql_without_a_secret_key_refuses_to_start_unless_told() {
    let Some(db) = TestDatabase::postgres().await else {
        return;
    };
    let url = db.url.expose().to_string();
    let e = leadrouter::startup::open_store(&bare_config(&[("DATABASE_URL", &url)]))
        .await
        .expect_err("refused without a key");
    assert!(
        e.to_string().contains("LEADROUTER_SECRET_KEY is not set"),
        "{e}"
    );
    let told = bare_config(&[
        ("DATABASE_URL", &url),
        ("LEADROUTER_ALLOW_CLEARTEXT_SECRETS", "1"),
    ]);
    leadrouter::startup::open_store(&told)
        .await
        .expect("starts when told")
        .close()
        .await;
    let keyed = bare_config(&[("DATABASE_URL", &url), ("LEADROUTER_SECRET_KEY", KEY_A)]);
    leadrouter::startup::open_store(&keyed)
        .await
        .expect("starts with a key")
        .close()
        .await;
    // The embedded SQLite of a first try starts without one (with a warning).
    let lite = TestDatabase::sqlite();
    leadrouter::startup::open_store(&bare_config(&[("DATABASE_URL", lite.url.expose())]))
        .await
        .expect("SQLite starts")
        .close()
        .await;
}

/// `render.yaml`'s variables as Render sets them: generated values (32 random bytes in
/// base64), the database's URL, and none of those left to the dashboard.
fn render_env(database_url: &str) -> Vec<(String, String)> {
    use base64::Engine;
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../render.yaml")).unwrap();
    let doc: serde_json::Value = serde_norway::from_str(&text).expect("render.yaml is YAML");
    let mut out = Vec::new();
    for var in doc["services"][0]["envVars"].as_array().unwrap() {
        let key = var["key"].as_str().unwrap().to_string();
        if var["generateValue"] == json!(true) {
            let bytes: [u8; 32] = rand::random();
            out.push((key, base64::engine::general_purpose::STANDARD.encode(bytes)));
        } else if var.get("fromDatabase").is_some() {
            out.push((key, database_url.to_string()));
        } else if let Some(v) = var["value"].as_str() {
            out.push((key, v.to_string()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn render_yaml_deploys_with_secrets_sealed_metrics_protected_and_the_proxy_trusted() {
    let db = match TestDatabase::postgres().await {
        Some(db) => db,
        None => TestDatabase::sqlite(),
    };
    let env = render_env(db.url.expose());
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let config = bare_config(&vars);
    assert!(config.secret_key.is_some(), "a secret key");
    assert!(
        config.metrics_token.is_some() && !config.metrics_public,
        "a metrics token"
    );
    assert!(config.setup_token.is_some(), "a setup token");
    let proxy: std::net::IpAddr = "10.20.30.40".parse().unwrap();
    assert!(
        config.trusted_proxies.iter().any(|n| n.contains(&proxy)),
        "Render's proxies trusted"
    );
    assert!(!config.allow_cleartext_secrets);
    // The server starts with exactly these, and behaves so.
    let app = TestApp::spawn_with(db, &vars).await;
    assert_eq!(
        reqwest::get(app.url("/metrics")).await.unwrap().status(),
        401
    );
    let token = env
        .iter()
        .find(|(k, _)| k == "LEADROUTER_METRICS_TOKEN")
        .unwrap()
        .1
        .clone();
    let r = reqwest::Client::new()
        .get(app.url("/metrics"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, p) = app
        .post(
            "/api/admin/partners",
            json!({"name": "P", "country": "germany", "niche": "forex",
        "webhook_url": "https://fxpartners.com/api/leads"}),
        )
        .await;
    let secret = p["signing_secret"].as_str().unwrap();
    assert!(
        app.store.text_containing_for_tests(secret).await.is_empty(),
        "sealed"
    );
    app.stop().await;
}
