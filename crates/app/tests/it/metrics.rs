//! `/metrics` after real leads through a real receiver: the counters and histogram counts
//! equal what happened, nothing personal appears, and the token is enforced when set.

use crate::delivery::{delivering, partner};
use crate::support::receiver::Receiver;
use crate::support::TestApp;
use serde_json::json;
use std::collections::HashMap;

/// The scrape as (name, sorted labels) → value, read by a Prometheus text parser.
async fn scrape(
    app: &TestApp,
    token: Option<&str>,
) -> (u16, HashMap<(String, Vec<(String, String)>), f64>, String) {
    let mut req = reqwest::Client::new().get(app.url("/metrics"));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    let lines = text.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("a Prometheus text exposition");
    let mut out = HashMap::new();
    for s in parsed.samples {
        let mut labels: Vec<(String, String)> = s
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.sort();
        let value = match s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => v,
            prometheus_parse::Value::Histogram(buckets) => buckets.last().map_or(0.0, |b| b.count),
            prometheus_parse::Value::Summary(_) => continue,
        };
        out.insert((s.metric, labels), value);
    }
    (status, out, text)
}

fn key(name: &str, labels: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let mut l: Vec<(String, String)> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.sort();
    (name.to_string(), l)
}

both_backends! {
    async fn metrics_count_what_happened_to_n_leads(db) {
        let app = delivering(db, &[("LEADROUTER_METRICS_PUBLIC", "1")]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let p = partner(&app, "Metrics FX", &rx.url("partner.test", "/leads"), json!({})).await;
        let pid = p["id"].to_string();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        const N: usize = 7;
        for i in 0..N {
            let (s, _) = app.send_lead(&token, json!({"name": "Metric Person", "email": format!("m{i}@metrics.example"),
                "country": "germany", "niche": "forex"})).await;
            assert_eq!(s, 202);
        }
        assert_eq!(app.send_lead(&token, json!({"email": "not-an-address", "country": "germany", "niche": "forex"})).await.0, 422);
        app.run_until_idle().await;
        assert_eq!(rx.requests().len(), N);
        let (status, m, text) = scrape(&app, None).await;
        assert_eq!(status, 200);
        let n = N as f64;
        let get = |name: &str, labels: &[(&str, &str)]| m.get(&key(name, labels)).copied().unwrap_or_else(|| panic!("{name} {labels:?} in\n{text}"));
        assert_eq!(get("leadrouter_leads_received_total", &[("outcome", "queued")]), n);
        assert_eq!(get("leadrouter_leads_received_total", &[("outcome", "rejected")]), 1.0);
        assert_eq!(get("leadrouter_leads_routed_total", &[("result", "assigned")]), n);
        assert_eq!(get("leadrouter_delivery_attempts_total", &[("partner_id", &pid), ("outcome", "delivered")]), n);
        assert_eq!(get("leadrouter_delivery_duration_seconds", &[("partner_id", &pid)]), n, "histogram count");
        assert_eq!(get("leadrouter_lead_to_partner_seconds", &[]), n, "histogram count");
        assert_eq!(get("leadrouter_leads_waiting", &[("status", "queued")]), 0.0);
        // (The parser's label grammar stops at the braces of a route template: read the line.)
        assert!(text.lines().any(|l| l == format!("leadrouter_http_requests_total{{route=\"/api/webhook/{{token}}\",status=\"202\"}} {N}")), "{text}");
        assert!(!text.contains("metrics.example") && !text.contains("Metric Person") && !text.contains(&token),
            "no personal data or token in the labels");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_token_is_enforced_when_set() {
    let app = TestApp::spawn_with(
        leadrouter_store::testing::TestDatabase::sqlite(),
        &[("LEADROUTER_METRICS_TOKEN", "scrape-me")],
    )
    .await;
    let r = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = reqwest::Client::new()
        .get(app.url("/metrics"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (status, m, _) = scrape(&app, Some("scrape-me")).await;
    assert_eq!(status, 200);
    assert!(m.keys().any(|(name, _)| name == "leadrouter_leads_waiting"));
    app.stop().await;
}
