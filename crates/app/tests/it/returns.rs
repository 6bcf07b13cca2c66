//! Returns: a partner returns a delivered lead with a reason (within the window, once, only
//! its own), an operator approves or declines it in the console or the API, an approval
//! marks the lead `returned`, gives the partner its slot back on the same local day and
//! shows in analytics, and the partner sees the decision. On both backends.

use crate::support::console::Console;
use crate::support::receiver::{tls, Receiver};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

fn at(s: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(s)
        .unwrap()
        .timestamp_millis()
}

struct Partner {
    id: i64,
    key: String,
}

async fn partner(app: &TestApp, rx: &Receiver, name: &str, country: &str) -> Partner {
    let (s, p) = app
        .post(
            "/api/admin/partners",
            json!({"name": name, "country": country, "niche": "forex",
        "webhook_url": rx.url("partner.test", "/in"), "timezone": "Europe/Berlin"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_i64().unwrap();
    let key = app
        .post(&format!("/api/admin/partners/{id}/rotate-key"), json!({}))
        .await
        .1["api_key"]
        .as_str()
        .unwrap()
        .to_string();
    Partner { id, key }
}

async fn give_back(app: &TestApp, p: &Partner, body: Value) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!("/api/return/{}", p.id)))
        .bearer_auth(&p.key)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn today_total(app: &TestApp, p: &Partner) -> i64 {
    app.get(&format!("/api/admin/partners/{}", p.id)).await.1["today"]["total"]
        .as_i64()
        .unwrap()
}

/// Refused: a bad reason, "other" without a note, another partner's lead, past the window,
/// another partner's key on this partner's path.
async fn refusals(app: &TestApp, berlin: &Partner, vienna: &Partner, [a, c, old]: [i64; 3]) {
    // Refused: a bad reason, "other" without a note, another partner's lead, past the window.
    let (s, e) = give_back(app, berlin, json!({"lead_id": a, "reason": "cheap"})).await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["fields"]["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid_contact"),
        "{e}"
    );
    let (s, e) = give_back(app, berlin, json!({"lead_id": a, "reason": "other"})).await;
    assert_eq!(
        (s, e["error"]["fields"]["note"].as_str()),
        (422, Some("is required when the reason is other")),
        "{e}"
    );
    assert_eq!(
        give_back(app, berlin, json!({"lead_id": c, "reason": "duplicate"}))
            .await
            .0,
        404
    );
    let (s, e) = give_back(app, berlin, json!({"lead_id": old, "reason": "duplicate"})).await;
    assert_eq!(s, 422, "{e}");
    assert!(
        e["error"]["fields"]["lead_id"]
            .as_str()
            .unwrap_or_default()
            .contains("past the return window"),
        "{e}"
    );
    // Another partner's key on Berlin's path: 403.
    let r = app
        .client
        .post(app.url(&format!("/api/return/{}", berlin.id)))
        .bearer_auth(&vienna.key)
        .json(&json!({"lead_id": a, "reason": "duplicate"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
}

both_backends! {
    async fn a_partner_returns_a_lead_and_the_operator_decides(db) {
        let clock = Arc::new(ManualClock::at(at("2026-12-01T09:00:00Z")));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let app = TestApp::spawn_at(db, &[("LEADROUTER_DELIVERY", "on"), ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")], clock.clone()).await;
        let rx = Receiver::start("127.0.0.1").await;
        let berlin = partner(&app, &rx, "Berlin", "germany").await;
        let vienna = partner(&app, &rx, "Vienna", "austria").await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let mut leads = Vec::new();
        for (email, country) in [("a@x.de", "de"), ("b@x.de", "de"), ("c@x.at", "at"), ("old@x.de", "de")] {
            if email == "old@x.de" {
                clock.set(at("2026-11-20T09:00:00Z"));
            }
            let (s, r) = app.send_lead(&token, json!({"email": email, "country": country, "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
            app.run_until_idle().await;
            leads.push(r["lead_id"].as_i64().unwrap());
        }
        clock.set(at("2026-12-01T10:00:00Z"));
        let (a, b, c, old) = (leads[0], leads[1], leads[2], leads[3]);
        assert_eq!(today_total(&app, &berlin).await, 2);

        refusals(&app, &berlin, &vienna, [a, c, old]).await;

        // Taken once: 201 pending, then 409.
        let (s, r) = give_back(&app, &berlin, json!({"lead_id": a, "reason": "invalid_contact"})).await;
        assert_eq!((s, r["status"].as_str()), (201, Some("pending")), "{r}");
        let first = r["return_id"].as_i64().unwrap();
        assert_eq!(give_back(&app, &berlin, json!({"lead_id": a, "reason": "duplicate"})).await.0, 409);
        let (s, r) = give_back(&app, &berlin, json!({"lead_id": b, "reason": "other", "note": "number belongs to a shop"})).await;
        assert_eq!(s, 201, "{r}");
        let second = r["return_id"].as_i64().unwrap();

        // The operator approves the first in the console, with a remark.
        let mut console = Console::new(&app);
        console.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = console.get("/admin/returns").await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("number belongs to a shop") && page.body.contains("Invalid contact details"), "{}", page.body);
        assert!(!page.body.contains("invalid_contact"), "the reason's label, not its code");
        let csrf = page.csrf();
        let done = console.post(&format!("/admin/returns/{first}/approve"), &[("_csrf", csrf.as_str()), ("remark", "bounced e-mail, agreed")]).await;
        assert_eq!(done.status, 303, "{}", done.body);
        let done = console.get("/admin/returns").await;
        assert!(done.body.contains("No return waits for a decision") || done.body.contains("number belongs"), "{}", done.body);
        assert!(done.body.contains(&format!("Return #{first} of lead #{a} approved.")), "{}", done.body);
        assert_eq!(app.get(&format!("/api/admin/leads/{a}")).await.1["status"], "returned");
        // Every list of states knows `returned`: the console's filter and the API's message.
        let leads = console.get("/admin/leads?status=returned").await;
        assert!(leads.body.contains(&format!("#{a}")), "{}", leads.body);
        assert!(leads.html().select(&scraper::Selector::parse("option[value=returned]").unwrap()).next().is_some());
        let (s, r) = app.get("/api/admin/leads?status=nonsense").await;
        assert_eq!(s, 422);
        assert!(r["error"]["fields"]["status"].as_str().unwrap().ends_with("duplicate, returned"), "{r}");
        assert_eq!(today_total(&app, &berlin).await, 1, "the slot is given back");
        // The second is declined over the API; deciding it again is refused.
        let (s, r) = app.post(&format!("/api/admin/returns/{second}/decline"), json!({"remark": "the number works"})).await;
        assert_eq!((s, r["return"]["status"].as_str()), (200, Some("declined")), "{r}");
        assert_eq!(app.post(&format!("/api/admin/returns/{second}/approve"), json!({})).await.0, 409);
        assert_eq!(today_total(&app, &berlin).await, 1);
        assert_eq!(app.get("/api/admin/returns?status=pending").await.1["returns"], json!([]));

        // The partner sees both decisions; Vienna sees none of Berlin's.
        let r = app.client.get(app.url(&format!("/api/return/{}", berlin.id))).bearer_auth(&berlin.key).send().await.unwrap();
        let mine: Value = r.json().await.unwrap();
        let decided: Vec<(Value, Value)> = mine["returns"].as_array().unwrap().iter()
            .map(|r| (r["status"].clone(), r["remark"].clone())).collect();
        assert_eq!(decided, vec![(json!("declined"), json!("the number works")), (json!("approved"), json!("bounced e-mail, agreed"))]);
        let r = app.client.get(app.url(&format!("/api/return/{}", vienna.id))).bearer_auth(&vienna.key).send().await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["returns"], json!([]));

        // The lead's page in the console shows its return and the decision.
        let lead_page = console.get(&format!("/admin/leads/{a}")).await;
        assert!(lead_page.body.contains("invalid_contact") && lead_page.body.contains("bounced e-mail, agreed"), "{}", lead_page.body);

        // Analytics count the returned lead.
        let (_, body) = app.get("/api/admin/analytics?from=2026-12-01&to=2026-12-01&group_by=partner").await;
        let row = body["rows"].as_array().unwrap().iter().find(|r| r["key"].as_str() == Some(berlin.id.to_string().as_str())).cloned().unwrap();
        assert_eq!(row["returned"], 1, "{row}");
        app.stop().await;
    }
}
