//! The overview's health panel: the held backlog by why the leads wait, and each partner's
//! accept rate and p95 of the last 24 hours against the 7 days before, flagged when worse.
//! On both backends.

use crate::support::console::Console;
use crate::support::receiver::{tls, Receiver, Reply};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::json;
use std::sync::Arc;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

/// The text of each row of the table under the heading `h2`.
fn table_rows(html: &scraper::Html, h2: &str) -> Vec<String> {
    let heading = scraper::Selector::parse("h2").unwrap();
    let row = scraper::Selector::parse("tbody tr").unwrap();
    let h = html
        .select(&heading)
        .find(|e| e.text().collect::<String>() == h2)
        .unwrap_or_else(|| panic!("no heading {h2}"));
    let table = h
        .next_siblings()
        .filter_map(scraper::ElementRef::wrap)
        .find(|e| e.value().name() == "table")
        .unwrap_or_else(|| panic!("no table under {h2}"));
    table
        .select(&row)
        .map(|r| {
            r.text()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

both_backends! {
    async fn the_overview_shows_the_held_backlog_and_partners_worse_than_usual(db) {
        let clock = Arc::new(ManualClock::at(at("2026-11-27T10:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let (s, steady) = app.post("/api/admin/partners", json!({"name": "Steady", "country": "germany", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/s")})).await;
        assert_eq!(s, 201, "{steady}");
        // Austria's only partner opens at 09:00 on Mondays: its leads wait.
        let (s, _) = app.post("/api/admin/partners", json!({"name": "Vienna mornings", "country": "austria", "niche": "forex",
            "webhook_url": rx.url("partner.test", "/v"), "business_hours": {"mon": ["09:00", "10:00"]}})).await;
        assert_eq!(s, 201);
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let send = |email: &'static str, country: &'static str| {
            let (app, token) = (&app, token.clone());
            async move {
                let (s, r) = app.send_lead(&token, json!({"email": email, "country": country, "niche": "forex"})).await;
                assert_eq!(s, 202, "{r}");
                app.run_until_idle().await;
            }
        };
        // Four days ago Steady took everything.
        for email in ["a@x.de", "b@x.de", "c@x.de", "d@x.de"] {
            send(email, "de").await;
        }
        // Today it refuses; one lead waits for Vienna's opening, one for a market nobody serves.
        clock.set(at("2026-12-01T09:00:00Z"));
        rx.otherwise(Reply::Status(400));
        send("e@x.de", "de").await;
        send("f@x.at", "at").await;
        send("g@x.es", "es").await;
        app.run_until_idle().await;

        let mut console = Console::new(&app);
        console.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = console.get("/admin").await;
        assert_eq!(page.status, 200);
        let html = page.html();
        let held = table_rows(&html, "Held backlog");
        assert!(held.contains(&"outside business hours|1".to_string()), "{held:?}");
        assert!(held.contains(&"no partner for its market|1".to_string()), "{held:?}");
        let health = table_rows(&html, "Partner health");
        let row = health.iter().find(|r| r.starts_with("Steady|")).unwrap_or_else(|| panic!("{health:?}"));
        assert!(row.starts_with("Steady|0.0%|100.0%|"), "{row}");
        assert!(row.ends_with("|worse than usual"), "{row}");
        let vienna = health.iter().find(|r| r.starts_with("Vienna mornings|")).unwrap();
        assert_eq!(vienna, "Vienna mornings|—|—|—|—", "nothing sent yet");
        app.stop().await;
    }
}
