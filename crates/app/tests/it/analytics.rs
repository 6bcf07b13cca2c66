//! Analytics by day (the operator's, or each partner's own), partner, country, niche and
//! source, for a seeded set around the DST change of 25 October 2026: several partners and
//! countries, a conversion, a return. Expected figures are worked out here from the
//! scenario, not read back from the same queries. On both backends.

use crate::support::receiver::{tls, Receiver};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

async fn rows(app: &TestApp, query: &str) -> BTreeMap<String, Value> {
    let (status, body) = app
        .get(&format!(
            "/api/admin/analytics?from=2026-10-24&to=2026-10-25&{query}"
        ))
        .await;
    assert_eq!(status, 200, "{body}");
    body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["key"].as_str().unwrap().to_string(), r.clone()))
        .collect()
}

fn figure(rows: &BTreeMap<String, Value>, key: &str, name: &str) -> i64 {
    rows.get(key).map_or(0, |r| r[name].as_i64().unwrap_or(0))
}

both_backends! {
    async fn figures_group_by_the_operators_day_the_partners_day_and_each_dimension(db) {
        let clock = Arc::new(ManualClock::at(at("2026-10-24T20:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (_, berlin) = app.post("/api/admin/partners", json!({"name": "Berlin", "country": "germany", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/b"), "timezone": "Europe/Berlin"})).await;
        let (_, toronto) = app.post("/api/admin/partners", json!({"name": "Toronto", "country": "canada", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/t"), "timezone": "America/Toronto"})).await;
        let (berlin_id, toronto_id) = (berlin["id"].as_i64().unwrap(), toronto["id"].as_i64().unwrap());
        let (source, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let send = |email: &'static str, country: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                let (s, r) = app.send_lead(&token, json!({"email": email, "country": country, "niche": "forex"})).await;
                assert_eq!(s, 202, "{r}");
                app.run_until_idle().await;
                r["lead_id"].as_i64().unwrap()
            }
        };
        // A: Saturday 23:30 UTC = Sunday 01:30 in Berlin (summer time still).
        clock.set(at("2026-10-24T23:30:00Z"));
        let a = send("a@x.de", "de").await;
        // C: Sunday 02:00 UTC = Saturday 22:00 in Toronto.
        clock.set(at("2026-10-25T02:00:00Z"));
        let c = send("c@x.ca", "ca").await;
        // B: Sunday 12:00 UTC, after Berlin's clocks went back.
        clock.set(at("2026-10-25T12:00:00Z"));
        let b = send("b@x.de", "de").await;
        for id in [a, b, c] {
            assert_eq!(app.get(&format!("/api/admin/leads/{id}")).await.1["status"], "delivered");
        }
        // Berlin reports a deposit of 250.00 on A; B is returned.
        clock.set(at("2026-10-25T13:00:00Z"));
        let key = app.post(&format!("/api/admin/partners/{berlin_id}/rotate-key"), json!({})).await.1["api_key"].as_str().unwrap().to_string();
        let r = app.client.post(app.url(&format!("/api/conversion/{berlin_id}"))).bearer_auth(&key)
            .json(&json!({"lead_id": a, "conversion_type": "deposit", "conversion_value": 250, "external_transaction_id": "t1"}))
            .send().await.unwrap();
        assert_eq!(r.status(), 200);
        app.store.mark_returned_for_tests(b).await;

        // The operator's days (UTC): A on the 24th; C and B on the 25th.
        let utc = rows(&app, "group_by=day&day=operator").await;
        assert_eq!((figure(&utc, "2026-10-24", "received"), figure(&utc, "2026-10-25", "received")), (1, 2));
        assert_eq!((figure(&utc, "2026-10-24", "delivered"), figure(&utc, "2026-10-25", "delivered")), (1, 2));
        assert_eq!(figure(&utc, "2026-10-25", "conversions"), 1);
        assert_eq!(utc["2026-10-25"]["revenue"], json!(250.0));
        // In Berlin's time the operator sees A on the 25th too.
        let berlin_days = rows(&app, "group_by=day&day=operator&timezone=Europe/Berlin").await;
        assert_eq!((figure(&berlin_days, "2026-10-24", "received"), figure(&berlin_days, "2026-10-25", "received")), (0, 3));
        // Each partner's own day: A (23:30 UTC) is Berlin's 25th; C is Toronto's 24th.
        let local = rows(&app, "group_by=day&day=partner").await;
        assert_eq!((figure(&local, "2026-10-24", "delivered"), figure(&local, "2026-10-25", "delivered")), (1, 2));
        assert_eq!(figure(&local, "2026-10-25", "received"), 2);
        // By partner, country, niche, source.
        let by_partner = rows(&app, "group_by=partner").await;
        assert_eq!((figure(&by_partner, &berlin_id.to_string(), "delivered"), figure(&by_partner, &toronto_id.to_string(), "delivered")), (2, 1));
        assert_eq!(figure(&by_partner, &berlin_id.to_string(), "returned"), 1);
        assert_eq!(by_partner[&berlin_id.to_string()]["success_rate"], json!(100.0));
        assert!(by_partner[&berlin_id.to_string()]["latency_p95_ms"].is_i64());
        let by_country = rows(&app, "group_by=country").await;
        assert_eq!((figure(&by_country, "germany", "received"), figure(&by_country, "canada", "received")), (2, 1));
        assert_eq!(figure(&by_country, "germany", "conversions"), 1);
        assert_eq!(figure(&rows(&app, "group_by=niche").await, "forex", "received"), 3);
        assert_eq!(figure(&rows(&app, "group_by=source").await, &source.to_string(), "received"), 3);
        let (_, body) = app.get("/api/admin/analytics?from=2026-10-24&to=2026-10-25&group_by=day").await;
        assert_eq!((body["totals"]["received"].as_i64(), body["totals"]["delivered"].as_i64(), body["totals"]["returned"].as_i64()),
            (Some(3), Some(3), Some(1)));
        assert_eq!(app.get("/api/admin/analytics?group_by=colour").await.0, 422);
        // The console's page: a chart and the same figures in its table.
        let mut console = crate::support::console::Console::new(&app);
        console.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = console.get("/admin/analytics?from=2026-10-24&to=2026-10-25&group_by=partner").await;
        assert_eq!(page.status, 200);
        // A chart drawn by the server: axes with values, the partners' whole names, each
        // bar's value; money with its currency, percentages alike.
        let svg = page.html().select(&scraper::Selector::parse(".chart svg").unwrap()).next().expect("a chart").html();
        assert!(svg.contains("Berlin") && svg.contains("Toronto"), "names on the chart: {svg}");
        assert!(page.body.contains("Success %") && page.body.contains("100.0 %"), "{}", page.body);
        assert!(page.body.contains(" EUR"), "money with its currency");
        let rows: Vec<String> = page.html().select(&scraper::Selector::parse("tbody tr").unwrap())
            .map(|r| r.text().collect::<Vec<_>>().join("|")).collect();
        assert!(rows.iter().any(|r| r.starts_with("Berlin|2|2|")), "{rows:?}");
        assert!(rows.iter().any(|r| r.starts_with("Toronto|1|1|")), "{rows:?}");
        app.stop().await;
    }
}
