//! Facebook Lead Ads, end to end against a local fake Graph API, on both backends.

use crate::support::fake_graph::FakeGraph;
use crate::support::{eventually, TestApp};
use leadrouter_core::signing::facebook_signature;
use serde_json::{json, Value};

const APP_SECRET: &str = "fb-app-secret-1";
const VERIFY: &str = "fb-verify-token-1";
const ACCESS: &str = "EAAB-page-access-token";

async fn facebook_app(
    db: leadrouter_store::testing::TestDatabase,
    graph: &FakeGraph,
) -> (TestApp, String) {
    let ca = crate::support::receiver::tls()
        .ca_file
        .to_str()
        .unwrap()
        .to_string();
    facebook_app_with(db, graph, &[("LEADROUTER_EXTRA_ROOT_CERTS", &ca)]).await
}

/// A server with a Facebook source, whose Graph API is `graph`, with extra settings.
pub(crate) async fn facebook_app_with(
    db: leadrouter_store::testing::TestDatabase,
    graph: &FakeGraph,
    extra: &[(&str, &str)],
) -> (TestApp, String) {
    let mut vars = vec![
        ("LEADROUTER_FACEBOOK_GRAPH_URL", graph.base.as_str()),
        ("LEADROUTER_RETRY_SCHEDULE", "20ms,20ms,20ms"),
    ];
    vars.extend_from_slice(extra);
    let app = TestApp::spawn_with(db, &vars).await;
    let (_, token) = app
        .source(json!({"name": "FB DE forex", "kind": "facebook", "default_niche": "forex",
            "default_lead_type": "premium", "source_label": "facebook_ads",
            "facebook": {"app_secret": APP_SECRET, "verify_token": VERIFY, "access_token": ACCESS}}))
        .await;
    (app, token)
}

pub(crate) fn notification(ids: &[&str]) -> Vec<u8> {
    let changes: Vec<Value> = ids
        .iter()
        .map(|id| json!({"field": "leadgen", "value": {"leadgen_id": id, "page_id": "p1", "form_id": "form-9"}}))
        .collect();
    json!({"object": "page", "entry": [{"id": "p1", "time": 1, "changes": changes}]})
        .to_string()
        .into_bytes()
}

pub(crate) async fn post_signed(
    app: &TestApp,
    token: &str,
    body: Vec<u8>,
    signature: Option<String>,
) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url(&format!("/api/facebook/{token}")))
        .header("content-type", "application/json");
    if let Some(s) = signature {
        req = req.header("X-Hub-Signature-256", s);
    }
    req.body(body).send().await.unwrap()
}

async fn leads(app: &TestApp) -> Vec<Value> {
    app.get("/api/admin/leads").await.1["leads"]
        .as_array()
        .unwrap()
        .clone()
}

both_backends! {
    async fn the_verification_handshake_answers_only_the_right_token(db) {
        let graph = FakeGraph::start().await;
        let (app, token) = facebook_app(db, &graph).await;
        let url = |mode: &str, verify: &str| {
            app.url(&format!("/api/facebook/{token}?hub.mode={mode}&hub.verify_token={verify}&hub.challenge=1158201444"))
        };
        let r = app.client.get(url("subscribe", VERIFY)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
        assert_eq!(r.text().await.unwrap(), "1158201444");
        assert_eq!(app.client.get(url("subscribe", "wrong")).send().await.unwrap().status(), 403);
        assert_eq!(app.client.get(url("unsubscribe", VERIFY)).send().await.unwrap().status(), 403);
        let other = app.url(&format!("/api/facebook/{}?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1", "f".repeat(64)));
        assert_eq!(app.client.get(other).send().await.unwrap().status(), 403);
        app.stop().await;
    }
}

both_backends! {
    async fn a_badly_signed_notification_is_refused_and_recorded(db) {
        let graph = FakeGraph::start().await;
        let (app, token) = facebook_app(db, &graph).await;
        let body = notification(&["9001"]);
        assert_eq!(post_signed(&app, &token, body.clone(), None).await.status(), 401);
        assert_eq!(post_signed(&app, &token, body.clone(), Some(facebook_signature("other", &body))).await.status(), 401);
        let tampered = notification(&["9002"]);
        assert_eq!(post_signed(&app, &token, tampered, Some(facebook_signature(APP_SECRET, &body))).await.status(), 401);
        let (_, rejected) = app.get("/api/admin/rejected-submissions").await;
        assert_eq!(rejected["rejected_submissions"].as_array().unwrap().len(), 3);
        assert!(graph.hits("9001").is_empty(), "nothing was fetched");
        app.stop().await;
    }
}

both_backends! {
    async fn notified_leads_are_fetched_with_retries_and_mapped(db) {
        let graph = FakeGraph::start().await;
        graph.add("5001", 0, json!([
            {"name": "full_name", "values": ["Jonas Weber"]},
            {"name": "email", "values": ["Jonas.Weber@Example.DE"]},
            {"name": "phone_number", "values": ["0151 12345678"]},
            {"name": "country", "values": ["DE"]},
            {"name": "wie_viel_kapital?", "values": ["10.000 €"]}
        ]));
        graph.add("5002", 2, json!([
            {"name": "first_name", "values": ["Ana"]},
            {"name": "last_name", "values": ["López"]},
            {"name": "phone_number", "values": ["+34 612 34 56 78"]},
            {"name": "country", "values": ["ES"]}
        ]));
        graph.add("5003", 0, json!([{"name": "full_name", "values": ["No Contact"]}, {"name": "country", "values": ["DE"]}]));
        let (app, token) = facebook_app(db, &graph).await;

        let body = notification(&["5001", "5002", "5003"]);
        let r = post_signed(&app, &token, body.clone(), Some(facebook_signature(APP_SECRET, &body))).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.json::<Value>().await.unwrap()["received"], 3);

        let got = eventually("two leads fetched and the third rejected", || async {
            let l = leads(&app).await;
            let rejected = app.get("/api/admin/rejected-submissions").await.1["rejected_submissions"].as_array().unwrap().len();
            (l.len() == 2 && rejected == 1).then_some(l)
        })
        .await;
        let weber = got.iter().find(|l| l["external_id"] == "5001").expect("lead 5001");
        assert_eq!((weber["first_name"].as_str(), weber["last_name"].as_str()), (Some("Jonas"), Some("Weber")));
        assert_eq!(weber["email"], "jonas.weber@example.de");
        assert_eq!(weber["phone"], "+4915112345678");
        assert_eq!(weber["country"], "germany");
        assert_eq!(weber["niche"], "forex", "the source's default niche");
        assert_eq!(weber["lead_type"], "premium");
        assert_eq!(weber["source"], "facebook_ads");
        assert_eq!(weber["custom_fields"]["wie_viel_kapital?"], "10.000 €");
        assert_eq!(weber["custom_fields"]["facebook_form_id"], "form-9");
        // The disclaimer's answers are the lead's consent evidence.
        assert_eq!(weber["consent"]["version"], "facebook form form-9");
        assert_eq!(weber["consent"]["given_at"], "2026-11-24T10:00:00.000Z");
        let (_, one) = app.get(&format!("/api/admin/leads/{}", weber["id"])).await;
        assert!(one["consent"]["text"].as_str().unwrap().contains("marketing_calls: checked"), "{one}");
        let lopez = got.iter().find(|l| l["external_id"] == "5002").expect("lead 5002 after retries");
        assert_eq!(lopez["phone"], "+34612345678");
        assert_eq!(graph.hits("5002").len(), 3, "failed twice, then fetched");
        assert!(graph.hits("5001").iter().all(|t| t == ACCESS), "the source's access token is used");

        // Facebook re-sends: nothing new is created. A later new lead still comes through.
        let again = notification(&["5001", "5004"]);
        graph.add("5004", 0, json!([{"name": "email", "values": ["late@example.de"]}, {"name": "country", "values": ["DE"]}]));
        let r = post_signed(&app, &token, again.clone(), Some(facebook_signature(APP_SECRET, &again))).await;
        assert_eq!(r.status(), 200);
        let all = eventually("lead 5004", || async {
            let l = leads(&app).await;
            l.iter().any(|x| x["external_id"] == "5004").then_some(l)
        })
        .await;
        assert_eq!(all.len(), 3, "5001 was not fetched or stored twice");
        assert_eq!(graph.hits("5001").len(), 1);
        app.stop().await;
    }
}

both_backends! {
    async fn a_lead_the_graph_api_never_returns_is_recorded_after_the_last_retry(db) {
        let graph = FakeGraph::start().await;
        graph.add("6001", 100, json!([]));
        let (app, token) = facebook_app(db, &graph).await;
        let body = notification(&["6001"]);
        assert_eq!(post_signed(&app, &token, body.clone(), Some(facebook_signature(APP_SECRET, &body))).await.status(), 200);
        let rejected = eventually("the failure recorded", || async {
            let r = app.get("/api/admin/rejected-submissions").await.1["rejected_submissions"].clone();
            (r.as_array().unwrap().len() == 1).then_some(r)
        })
        .await;
        assert!(rejected[0]["reason"]["facebook"].as_str().unwrap().contains("after 4 attempts"), "{rejected}");
        assert_eq!(graph.hits("6001").len(), 4, "the first try and three retries");
        app.stop().await;
    }
}
