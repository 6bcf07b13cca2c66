//! The analytics roll-up: the figures of closed half hours, read from the `figures` table,
//! equal those read from the leads, deliveries, conversions and attempts themselves, for
//! every grouping and for operators in whole-hour, half-hour (Newfoundland) and
//! quarter-hour (Nepal) timezones; a change to an older lead is seen at once and rolled
//! again. What partners pay per lead is counted at the price of the day it was assigned.
//! On both backends.

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

const QUERIES: [&str; 10] = [
    "group_by=day&day=operator",
    "group_by=day&day=operator&timezone=Europe/Berlin",
    "group_by=day&day=operator&timezone=America/St_Johns",
    "group_by=day&day=operator&timezone=Asia/Kathmandu",
    "group_by=day&day=partner",
    "group_by=partner",
    "group_by=partner&timezone=America/St_Johns",
    "group_by=country",
    "group_by=niche",
    "group_by=source",
];

/// Every grouping's answer (rows and totals) over the scenario's days.
async fn all_figures(app: &TestApp) -> Vec<Value> {
    let mut out = Vec::new();
    for q in QUERIES {
        let (status, body) = app
            .get(&format!(
                "/api/admin/analytics?from=2026-10-22&to=2026-10-26&{q}"
            ))
            .await;
        assert_eq!(status, 200, "{q}: {body}");
        out.push(json!({"query": q, "rows": body["rows"], "totals": body["totals"]}));
    }
    out
}

fn totals<'a>(figures: &'a [Value], query: &str) -> &'a Value {
    &figures.iter().find(|f| f["query"] == query).unwrap()["totals"]
}

/// Seven leads a day on 23–25 October at times on and beside half-hour edges, a third to
/// Canada; each routed and delivered before the next.
async fn three_days_of_leads(app: &TestApp, clock: &ManualClock, token: &str) -> Vec<i64> {
    let mut leads = Vec::new();
    for (day, times) in [(23, 0), (24, 1), (25, 2)] {
        for (i, hm) in [
            "00:10", "06:45", "11:29", "11:31", "17:00", "22:59", "23:30",
        ]
        .iter()
        .enumerate()
        {
            clock.set(at(&format!("2026-10-{day}T{hm}:00Z")));
            let country = if (i + times) % 3 == 0 { "ca" } else { "de" };
            let email = format!("l{day}{i}@example.com");
            let (s, r) = app
                .send_lead(
                    token,
                    json!({"email": email, "country": country, "niche": "forex"}),
                )
                .await;
            assert_eq!(s, 202, "{r}");
            app.run_until_idle().await;
            leads.push(r["lead_id"].as_i64().unwrap());
        }
    }
    leads
}

/// The partner reports a deposit of 99.50 on the lead, with its own key.
async fn convert(app: &TestApp, partner_id: &Value, lead: i64) {
    let key = app
        .post(
            &format!("/api/admin/partners/{partner_id}/rotate-key"),
            json!({}),
        )
        .await
        .1["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app.client.post(app.url(&format!("/api/conversion/{partner_id}"))).bearer_auth(&key)
        .json(&json!({"lead_id": lead, "conversion_type": "deposit", "conversion_value": 99.5, "external_transaction_id": "t1"}))
        .send().await.unwrap();
    assert_eq!(r.status(), 200);
}

both_backends! {
    async fn rolled_up_figures_equal_the_figures_read_from_the_leads(db) {
        let clock = Arc::new(ManualClock::at(at("2026-10-23T00:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")], clock.clone()).await;
        let good = Receiver::start("127.0.0.1").await;
        let picky = Receiver::start("127.0.0.1").await;
        picky.otherwise(Reply::Status(400));
        let partner = |name: &str, country: &str, url: String, price: Value| {
            let app = &app;
            let body = json!({"name": name, "country": country, "niche": "forex", "webhook_url": url,
                "timezone": "Europe/Berlin", "price_per_lead": price});
            async move {
                let (s, p) = app.post("/api/admin/partners", body).await;
                assert_eq!(s, 201, "{p}");
                p
            }
        };
        let good_de = partner("Good", "germany", good.url("partner.test", "/g"), json!(12.5)).await;
        assert_eq!(good_de["price_per_lead"], json!(12.5));
        let picky_de = partner("Picky", "germany", picky.url("second.test", "/p"), json!("3.00")).await;
        let toronto = partner("Toronto", "canada", good.url("partner.test", "/t"), Value::Null).await;
        assert_eq!(toronto["price_per_lead"], Value::Null);
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let leads = three_days_of_leads(&app, &clock, &token).await;
        // A price change applies to leads assigned after it.
        let (s, _) = app.patch(&format!("/api/admin/partners/{}", good_de["id"]), json!({"price_per_lead": 20})).await;
        assert_eq!(s, 200);
        // Good reports a conversion on the first lead it was delivered.
        let mut good_leads = Vec::new();
        for id in &leads {
            let lead = app.get(&format!("/api/admin/leads/{id}")).await.1;
            assert_eq!(lead["status"], "delivered", "{lead}");
            if lead["partner_id"] == good_de["id"] {
                good_leads.push(*id);
            }
        }
        convert(&app, &good_de["id"], good_leads[0]).await;

        // Two days later every half hour of the scenario is closed and rolled up.
        // (A second look: work the first one did after the roll may have marked some stale.)
        clock.set(at("2026-10-27T09:00:00Z"));
        app.run_until_idle().await;
        app.run_until_idle().await;
        let (rows, stale, rolled_until) = app.store.figures_state_for_tests().await;
        assert!(rows > 0 && stale == 0 && rolled_until >= at("2026-10-27T08:30:00Z"), "{rows} {stale} {rolled_until}");
        let rolled = all_figures(&app).await;
        app.store.forget_figures_for_tests().await;
        let raw = all_figures(&app).await;
        assert_eq!(rolled, raw);
        let t = totals(&raw, "group_by=day&day=operator");
        assert_eq!((t["received"].as_i64(), t["delivered"].as_i64(), t["conversions"].as_i64()), (Some(21), Some(21), Some(1)));
        assert!(t["rejected"].as_i64().unwrap() > 0, "Picky refused some: {t}");
        assert_eq!(t["revenue"], json!(99.5));
        // Good was paid 12.50 a lead; Picky delivered none; Toronto has no price.
        let by_partner = &raw.iter().find(|f| f["query"] == "group_by=partner").unwrap()["rows"];
        let row = |id: &Value| by_partner.as_array().unwrap().iter().find(|r| r["key"].as_str() == Some(id.to_string().as_str())).cloned().unwrap_or(json!({}));
        assert_eq!(row(&good_de["id"])["delivered"].as_i64(), Some(good_leads.len() as i64));
        assert_eq!(row(&good_de["id"])["lead_revenue"], json!(12.5 * good_leads.len() as f64));
        assert_eq!(row(&picky_de["id"])["lead_revenue"], json!(0.0));
        assert_eq!(row(&toronto["id"])["lead_revenue"], json!(0.0));

        // An older lead returned: its half hour is stale, read from the leads until rolled again.
        app.run_until_idle().await;
        app.store.mark_returned_for_tests(leads[0]).await;
        assert_eq!(app.store.figures_state_for_tests().await.1, 1);
        let seen = all_figures(&app).await;
        assert_eq!(totals(&seen, "group_by=day&day=operator")["returned"].as_i64(), Some(1));
        app.run_until_idle().await;
        assert_eq!(app.store.figures_state_for_tests().await.1, 0, "rolled again");
        let again = all_figures(&app).await;
        app.store.forget_figures_for_tests().await;
        let raw = all_figures(&app).await;
        assert_eq!(seen, raw);
        assert_eq!(again, raw);
        app.stop().await;
    }
}
