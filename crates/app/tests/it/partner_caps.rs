//! Partner rules (API.md "Partner rules"): caps by the hour, week, month and for ever beside
//! the daily limit, and budgets by the day and month, each in the partner's own clock; on
//! both backends, with a manual clock, under concurrency and across instances.

use crate::routing::{at, counts, lead, partner, settled};
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

async fn send(app: &TestApp, token: &str, i: usize) -> Value {
    let (s, r) = app
        .send_lead(
            token,
            json!({"email": format!("cap{i}@example.de"), "country": "de", "niche": "forex", "type": "raw"}),
        )
        .await;
    assert_eq!(s, 202, "{r}");
    app.run_until_idle().await;
    r["lead_id"].clone()
}

async fn status(app: &TestApp, id: &Value) -> (String, String) {
    let l = lead(app, id).await;
    let reasons: Vec<String> = l["routing"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|e| e["reason"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default();
    (
        l["status"].as_str().unwrap().to_string(),
        reasons.join("; "),
    )
}

/// A lead routed once the clock reaches a window's start.
async fn assigned_when_due(app: &TestApp, id: &Value) {
    app.after_idle("the held lead routed when its window opens", || async {
        (status(app, id).await.0 == "assigned").then_some(())
    })
    .await;
}

async fn limits(app: &TestApp, id: i64) -> Vec<Value> {
    let (_, p) = app.get(&format!("/api/admin/partners/{id}")).await;
    p["limits"].as_array().cloned().unwrap_or_default()
}

both_backends! {
    async fn each_cap_counts_in_its_window_of_the_partners_clock_and_held_leads_come_back_when_it_opens(db) {
        // Sunday 29 November 2026, 19:10 UTC = 20:10 in Berlin.
        let clock = Arc::new(ManualClock::at(at("2026-11-29T19:10:00Z")));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let id = partner(&app, "Desk", json!({"daily_limit": 100, "premium_ratio": 0, "timezone": "Europe/Berlin",
            "caps": {"hourly": 3, "weekly": 4, "monthly": 6}})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let mut ids = Vec::new();
        for i in 0..4 {
            ids.push(send(&app, &token, i).await);
        }
        let (s, why) = status(&app, &ids[3]).await;
        assert_eq!(s, "held");
        assert!(why.contains("hourly cap reached (3/3)"), "{why}");
        let l = limits(&app, id).await;
        assert_eq!(l[0], json!({"window": "hourly", "kind": "cap", "used": 3, "limit": 3, "reached": true,
            "resets_at": "2026-11-29T20:00:00.000Z"}), "{l:?}");
        let (_, pacing) = app.get(&format!("/api/admin/partners/{id}/pacing")).await;
        assert_eq!(pacing["limits"], json!(l), "pacing shows the same use");
        assert_eq!(l[1]["used"], 3);

        // Not a second early; at 21:00 Berlin a new hour opens and the lead goes.
        clock.set(at("2026-11-29T19:59:59Z"));
        app.run_until_idle().await;
        assert_eq!(status(&app, &ids[3]).await.0, "held");
        clock.set(at("2026-11-29T20:00:00Z"));
        assigned_when_due(&app, &ids[3]).await;
        // The week (from Monday 23 November) is full at 4.
        let fifth = send(&app, &token, 4).await;
        let (s, why) = status(&app, &fifth).await;
        assert_eq!(s, "held");
        assert!(why.contains("weekly cap reached (4/4)"), "{why}");

        // Monday 00:00 in Berlin (23:00 UTC): a new week; November's count goes on.
        clock.set(at("2026-11-29T22:59:59Z"));
        app.run_until_idle().await;
        assert_eq!(status(&app, &fifth).await.0, "held");
        clock.set(at("2026-11-29T23:00:00Z"));
        assigned_when_due(&app, &fifth).await;
        // Monday noon (within the hold limit of a day before the month ends).
        clock.set(at("2026-11-30T11:00:00Z"));
        let sixth = send(&app, &token, 5).await;
        assert_eq!(status(&app, &sixth).await.0, "assigned");
        let seventh = send(&app, &token, 6).await;
        let (s, why) = status(&app, &seventh).await;
        assert_eq!(s, "held");
        assert!(why.contains("monthly cap reached (6/6)"), "{why}");

        // 1 December 00:00 in Berlin: a new month.
        clock.set(at("2026-11-30T22:59:59Z"));
        app.run_until_idle().await;
        assert_eq!(status(&app, &seventh).await.0, "held");
        clock.set(at("2026-11-30T23:00:00Z"));
        assigned_when_due(&app, &seventh).await;
        let c = counts(&app).await;
        assert_eq!(c.get("assigned"), Some(&7), "{c:?}");
        app.stop().await;
    }
}

both_backends! {
    async fn the_hour_the_clocks_show_twice_is_two_hours_of_an_hourly_cap(db) {
        // 25 October 2026 in Berlin: 02:00–03:00 summer time, then 02:00–03:00 winter time.
        let clock = Arc::new(ManualClock::at(at("2026-10-25T00:30:00Z")));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let id = partner(&app, "Night desk", json!({"daily_limit": 100, "premium_ratio": 0,
            "timezone": "Europe/Berlin", "caps": {"hourly": 1}})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let first = send(&app, &token, 0).await;
        let second = send(&app, &token, 1).await;
        assert_eq!(status(&app, &first).await.0, "assigned");
        let (s, why) = status(&app, &second).await;
        assert_eq!((s.as_str(), why.contains("hourly cap reached (1/1)")), ("held", true), "{why}");
        // 02:00 again, an hour later: a new hour of the cap.
        clock.set(at("2026-10-25T01:00:00Z"));
        assigned_when_due(&app, &second).await;
        assert_eq!(limits(&app, id).await[0]["used"], 1);
        app.stop().await;
    }
}

both_backends! {
    async fn budgets_stop_a_partner_at_what_it_may_spend_by_the_day_and_the_month(db) {
        // Sunday 29 November 2026, 10:00 UTC.
        let clock = Arc::new(ManualClock::at(at("2026-11-29T10:00:00Z")));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let id = partner(&app, "Broker", json!({"daily_limit": 100, "premium_ratio": 0, "timezone": "Europe/Berlin",
            "price_per_lead": "25.00", "budget": {"daily": 50, "monthly": "75.00"}})).await;
        let (_, p) = app.get(&format!("/api/admin/partners/{id}")).await;
        assert_eq!((p["budget"]["daily"].as_f64(), p["budget"]["monthly"].as_f64()), (Some(50.0), Some(75.0)), "{p}");
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let ids = [send(&app, &token, 0).await, send(&app, &token, 1).await, send(&app, &token, 2).await];
        let (s, why) = status(&app, &ids[2]).await;
        assert_eq!(s, "held");
        assert!(why.contains("daily budget reached (50.00 spent of 50.00)"), "{why}");
        let l = limits(&app, id).await;
        assert_eq!(l[0], json!({"window": "daily", "kind": "budget", "used": 50.0, "limit": 50.0, "reached": true,
            "resets_at": "2026-11-29T23:00:00.000Z"}), "{l:?}");
        // The next day in Berlin it goes; then the month's 75.00 is spent.
        clock.set(at("2026-11-29T23:00:00Z"));
        assigned_when_due(&app, &ids[2]).await;
        clock.set(at("2026-11-30T11:00:00Z"));
        let fourth = send(&app, &token, 3).await;
        let (s, why) = status(&app, &fourth).await;
        assert_eq!(s, "held");
        assert!(why.contains("monthly budget reached (75.00 spent of 75.00)"), "{why}");
        clock.set(at("2026-11-30T23:00:00Z"));
        assigned_when_due(&app, &fourth).await;
        // A budget needs a price, and is named where it is wrong.
        let (s, e) = app.post("/api/admin/partners", json!({"name": "Unpriced", "country": "germany", "niche": "forex",
            "webhook_url": "https://fxpartners.com/api/leads", "budget": {"daily": 100}, "caps": {"hourly": 0}})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["budget.daily"].as_str().unwrap().contains("price_per_lead"), "{e}");
        assert_eq!(e["error"]["fields"]["caps.hourly"], "must be a whole number of at least 1", "{e}");
        app.stop().await;
    }
}

/// Three partners each with one kind of cap of 20 (an hourly, a weekly, a total) and a
/// daily limit far above it.
async fn capped_partners(app: &TestApp) -> [i64; 3] {
    let mut ids = [0; 3];
    for (i, caps) in [
        json!({"hourly": 20}),
        json!({"weekly": 20}),
        json!({"total": 20}),
    ]
    .into_iter()
    .enumerate()
    {
        ids[i] = partner(
            app,
            &format!("Capped {i}"),
            json!({"daily_limit": 1000, "premium_ratio": 0, "caps": caps}),
        )
        .await;
    }
    ids
}

async fn fire(apps: &[&TestApp], token: &str, n: usize) {
    let sends = (0..n).map(|i| {
        apps[i % apps.len()].send_lead(
            token,
            json!({"email": format!("race{i}@example.de"), "country": "de",
            "niche": "forex", "type": "raw"}),
        )
    });
    let answers = futures::future::join_all(sends).await;
    assert!(
        answers.iter().all(|(s, _)| *s == 202),
        "every lead accepted"
    );
}

async fn assert_twenty_each(app: &TestApp, ids: &[i64; 3]) {
    let c = settled(app, 500).await;
    assert_eq!(
        (c.get("assigned"), c.get("held")),
        (Some(&60), Some(&440)),
        "{c:?}"
    );
    let (_, assigned) = app.get("/api/admin/leads?status=assigned&limit=200").await;
    for id in ids {
        let mine = assigned["leads"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["partner_id"] == *id)
            .count();
        assert_eq!(mine, 20, "partner {id}: 0 over its cap");
        assert_eq!(
            limits(app, *id).await[0]["used"],
            20,
            "partner {id}'s window counted exactly"
        );
    }
}

both_backends! {
    async fn five_hundred_concurrent_leads_fill_hourly_weekly_and_total_caps_exactly(db) {
        let app = TestApp::spawn(db).await;
        let ids = capped_partners(&app).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        fire(&[&app], &token, 500).await;
        assert_twenty_each(&app, &ids).await;
        app.stop().await;
    }
}

/// Three server instances, one PostgreSQL database, routers racing for the same caps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_on_postgres_never_pass_an_hourly_weekly_or_total_cap() {
    let Some(db) = leadrouter_store::testing::TestDatabase::postgres().await else {
        return;
    };
    let first = TestApp::spawn(db).await;
    let second = first.another_instance(&[]).await;
    let third = first.another_instance(&[]).await;
    let ids = capped_partners(&first).await;
    let (_, token) = first.source(json!({"name": "S", "kind": "webhook"})).await;
    fire(&[&first, &second, &third], &token, 500).await;
    assert_twenty_each(&first, &ids).await;
    third.stop().await;
    second.stop().await;
    first.stop().await;
}

both_backends! {
    async fn an_approved_return_gives_its_slot_back_to_the_cap_and_the_held_lead_goes(db) {
        use crate::delivery::{delivering, lead_in, partner as delivering_partner};
        use crate::support::receiver::{Receiver, Reply};
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(200));
        let p = delivering_partner(&app, "Once", &rx.url("partner.test", "/in"),
            json!({"caps": {"total": 1}, "price_per_lead": 30, "budget": {"monthly": 1000}})).await;
        let id = p["id"].as_i64().unwrap();
        let key = app.post(&format!("/api/admin/partners/{id}/rotate-key"), json!({})).await.1["api_key"]
            .as_str().unwrap().to_string();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let first = send(&app, &token, 0).await;
        lead_in(&app, &first, "delivered").await;
        let second = send(&app, &token, 1).await;
        let (s, why) = status(&app, &second).await;
        assert_eq!(s, "held");
        assert!(why.contains("total cap reached (1/1)"), "{why}");
        // The partner returns the first lead; the operator approves: the slot and the money
        // come back, and the held lead goes.
        let r = app.client.post(app.url(&format!("/api/return/{id}"))).bearer_auth(&key)
            .json(&json!({"lead_id": first, "reason": "invalid_contact"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let return_id = r.json::<Value>().await.unwrap()["return_id"].as_i64().unwrap();
        let (s, r) = app.post(&format!("/api/admin/returns/{return_id}/approve"), json!({})).await;
        assert_eq!(s, 200, "{r}");
        lead_in(&app, &second, "delivered").await;
        let l = limits(&app, id).await;
        assert_eq!((l[0]["window"].as_str(), l[0]["used"].as_i64()), (Some("total"), Some(1)), "{l:?}");
        assert_eq!((l[1]["window"].as_str(), l[1]["used"].as_f64()), (Some("monthly"), Some(30.0)), "{l:?}");
        assert_eq!(rx.requests().len(), 2);
        app.stop().await;
    }
}
