//! Smart routing through the running server, on both backends: one partner per lead,
//! caps that never overshoot, held leads that come back.

use crate::support::TestApp;
use chrono::DateTime;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

pub(crate) fn at(s: &str) -> i64 {
    DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis()
}

pub(crate) async fn partner(app: &TestApp, name: &str, extra: Value) -> i64 {
    let mut body = json!({"name": name, "country": "germany", "niche": "forex", "daily_limit": 20,
        "premium_ratio": 50, "webhook_url": "https://fxpartners.com/api/leads"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, p) = app.post("/api/admin/partners", body).await;
    assert_eq!(status, 201, "{p}");
    p["id"].as_i64().unwrap()
}

pub(crate) async fn counts(app: &TestApp) -> BTreeMap<String, i64> {
    app.store.lead_status_counts().await.unwrap()
}

/// Runs until idle; then `n` leads exist and none is still queued.
pub(crate) async fn settled(app: &TestApp, n: i64) -> BTreeMap<String, i64> {
    app.after_idle("every lead routed", || async {
        let c = counts(app).await;
        (c.values().sum::<i64>() == n && !c.contains_key("queued")).then_some(c)
    })
    .await
}

pub(crate) async fn today(app: &TestApp, id: i64) -> Value {
    app.get(&format!("/api/admin/partners/{id}")).await.1["today"].clone()
}

pub(crate) async fn lead(app: &TestApp, id: &Value) -> Value {
    app.get(&format!("/api/admin/leads/{id}")).await.1
}

fn lead_body(i: usize, premium: bool) -> Value {
    json!({"email": format!("lead{i}@example.com"), "country": "de", "niche": "forex",
           "type": if premium { "premium" } else { "raw" }})
}

async fn fire(apps: &[&TestApp], token: &str, n: usize) {
    let sends = (0..n).map(|i| apps[i % apps.len()].send_lead(token, lead_body(i, i % 2 == 0)));
    let answers = futures::future::join_all(sends).await;
    assert!(
        answers.iter().all(|(s, _)| *s == 202),
        "every lead accepted"
    );
}

async fn assert_caps_held(app: &TestApp, partners: &[i64]) {
    for id in partners {
        let t = today(app, *id).await;
        assert_eq!(
            (
                t["total"].as_i64(),
                t["premium"].as_i64(),
                t["raw"].as_i64()
            ),
            (Some(20), Some(10), Some(10)),
            "partner {id}: {t}"
        );
    }
    let (_, assigned) = app.get("/api/admin/leads?status=assigned&limit=200").await;
    let assigned = assigned["leads"].as_array().unwrap();
    assert_eq!(assigned.len(), 60);
    for id in partners {
        let mine = assigned.iter().filter(|l| l["partner_id"] == *id).count();
        assert_eq!(mine, 20, "partner {id} has 20 leads");
    }
    let (_, held) = app.get("/api/admin/leads?status=held&limit=200").await;
    for l in held["leads"].as_array().unwrap() {
        let routing = l["routing"].as_array().unwrap();
        assert_eq!(routing.len(), 3, "{l}");
        for entry in routing {
            assert_eq!(entry["eligible"], false, "{l}");
            let reason = entry["reason"].as_str().unwrap();
            assert!(
                reason.contains("quota reached 10/10")
                    || reason.contains("daily limit reached 20/20")
                    || reason.contains("capacity taken by a concurrent lead"),
                "{reason}"
            );
        }
    }
}

both_backends! {
    async fn five_hundred_leads_at_once_fill_three_partners_exactly_to_their_caps(db) {
        let app = TestApp::spawn(db).await;
        let ids = [partner(&app, "A", json!({})).await, partner(&app, "B", json!({})).await, partner(&app, "C", json!({})).await];
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        fire(&[&app], &token, 500).await;
        let c = settled(&app, 500).await;
        assert_eq!(c.get("assigned"), Some(&60), "{c:?}");
        assert_eq!(c.get("held"), Some(&440), "{c:?}");
        assert_caps_held(&app, &ids).await;
        app.stop().await;
    }
}

/// Two server instances, one PostgreSQL database, routers racing for the same caps.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_sharing_postgres_never_overshoot_a_cap() {
    let Some(db) = leadrouter_store::testing::TestDatabase::postgres().await else {
        return;
    };
    let first = TestApp::spawn(db).await;
    let second = first.another_instance(&[]).await;
    let ids = [
        partner(&first, "A", json!({})).await,
        partner(&first, "B", json!({})).await,
        partner(&first, "C", json!({})).await,
    ];
    let (_, token) = first.source(json!({"name": "S", "kind": "webhook"})).await;
    fire(&[&first, &second], &token, 500).await;
    let c = settled(&first, 500).await;
    assert_eq!(
        (c.get("assigned"), c.get("held")),
        (Some(&60), Some(&440)),
        "{c:?}"
    );
    assert_caps_held(&first, &ids).await;
    second.stop().await;
    first.stop().await;
}

both_backends! {
    async fn the_guides_example_partner_gets_35_premium_and_15_raw(db) {
        let app = TestApp::spawn(db).await;
        let id = partner(&app, "FX Trading Partners Ltd", json!({"daily_limit": 50, "premium_ratio": "70%"})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        fire(&[&app], &token, 120).await;
        let c = settled(&app, 120).await;
        assert_eq!((c.get("assigned"), c.get("held")), (Some(&50), Some(&70)));
        let t = today(&app, id).await;
        assert_eq!((t["premium"].as_i64(), t["raw"].as_i64()), (Some(35), Some(15)));
        app.stop().await;
    }
}

both_backends! {
    async fn a_lead_waits_for_business_hours_and_goes_when_they_open(db) {
        // Tuesday 24 November 2026, 12:00 UTC: 13:00 in Madrid.
        let clock = Arc::new(ManualClock::at(at("2026-11-24T12:00:00Z")));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let (status, p) = app.post("/api/admin/partners", json!({"name": "Recovery ES", "country": "spain",
            "niche": "recovery", "webhook_url": "https://recovery-es.com/api/new-lead",
            "business_hours": {"tue": ["15:00", "18:00"]}})).await;
        assert_eq!(status, 201, "{p}");
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "a@example.es", "country": "es", "niche": "recovery"})).await;
        settled(&app, 1).await;
        let held = lead(&app, &r["lead_id"]).await;
        assert_eq!(held["status"], "held");
        assert_eq!(held["routing"][0]["partner_name"], "Recovery ES");
        assert_eq!(held["routing"][0]["reason"], "outside business hours, opens 15:00 Europe/Madrid");

        clock.set(at("2026-11-24T14:00:00Z")); // 15:00 in Madrid
        let assigned = app.after_idle("routed when the partner opens", || async {
            let l = lead(&app, &r["lead_id"]).await;
            (l["status"] == "assigned").then_some(l)
        })
        .await;
        assert_eq!(assigned["partner_id"], p["id"]);
        assert_eq!(assigned["deliveries"].as_array().unwrap().len(), 1);
        app.stop().await;
    }
}

both_backends! {
    async fn a_partner_past_its_local_midnight_counts_afresh_while_another_is_still_on_yesterday(db) {
        // 22:30 UTC: 23:30 in Berlin, 17:30 in Toronto.
        let clock = Arc::new(ManualClock::at(at("2026-11-24T22:30:00Z")));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let berlin = partner(&app, "Berlin", json!({"daily_limit": 1, "premium_ratio": 0, "timezone": "Europe/Berlin"})).await;
        let toronto = partner(&app, "Toronto", json!({"daily_limit": 1, "premium_ratio": 0, "timezone": "America/Toronto"})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        for i in 0..3 {
            assert_eq!(app.send_lead(&token, json!({"email": format!("m{i}@x.de"), "country": "de", "niche": "forex"})).await.0, 202);
        }
        let c = settled(&app, 3).await;
        assert_eq!((c.get("assigned"), c.get("held")), (Some(&2), Some(&1)));

        clock.set(at("2026-11-24T23:00:01Z")); // Berlin: Wednesday 00:00:01; Toronto: Tuesday
        app.after_idle("the held lead goes to Berlin's new day", || async {
            let c = counts(&app).await;
            (c.get("assigned") == Some(&3)).then_some(())
        })
        .await;
        let b = today(&app, berlin).await;
        assert_eq!((b["date"].as_str(), b["total"].as_i64()), (Some("2026-11-25"), Some(1)));
        let t = today(&app, toronto).await;
        assert_eq!((t["date"].as_str(), t["total"].as_i64()), (Some("2026-11-24"), Some(1)));
        assert_eq!(app.send_lead(&token, json!({"email": "late@x.de", "country": "de", "niche": "forex"})).await.0, 202);
        let c = settled(&app, 4).await;
        assert_eq!(c.get("held"), Some(&1), "both partners are full for their own today");
        app.stop().await;
    }
}

both_backends! {
    async fn held_leads_expire_after_the_hold_limit(db) {
        let clock = Arc::new(ManualClock::at(at("2026-11-24T10:00:00Z")));
        let app = TestApp::spawn_at(db, &[("LEADROUTER_HOLD_MAX", "1h")], clock.clone()).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "nobody@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 1).await;
        assert_eq!(lead(&app, &r["lead_id"]).await["status"], "held", "no partner at all");
        clock.set(at("2026-11-24T11:00:01Z"));
        app.after_idle("expired", || async { (lead(&app, &r["lead_id"]).await["status"] == "expired").then_some(()) }).await;
        app.stop().await;
    }
}

both_backends! {
    async fn held_leads_are_routed_when_a_partner_is_added_or_resumed(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, first) = app.send_lead(&token, json!({"email": "a@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 1).await;
        assert_eq!(lead(&app, &first["lead_id"]).await["routing"], json!([]), "no partner considered");
        let id = partner(&app, "New", json!({})).await;
        app.after_idle("routed to the new partner", || async {
            let l = lead(&app, &first["lead_id"]).await;
            (l["partner_id"] == id).then_some(())
        })
        .await;

        assert_eq!(app.post(&format!("/api/admin/partners/{id}/pause"), json!({})).await.0, 200);
        let (_, second) = app.send_lead(&token, json!({"email": "b@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 2).await;
        let held = lead(&app, &second["lead_id"]).await;
        assert_eq!((held["status"].as_str(), held["routing"][0]["reason"].as_str()), (Some("held"), Some("paused")));
        assert_eq!(app.post(&format!("/api/admin/partners/{id}/resume"), json!({})).await.0, 200);
        app.after_idle("routed after resume", || async {
            (lead(&app, &second["lead_id"]).await["status"] == "assigned").then_some(())
        })
        .await;
        app.stop().await;
    }
}

both_backends! {
    async fn a_partner_requiring_fields_the_lead_lacks_is_skipped_with_the_reason(db) {
        let app = TestApp::spawn(db).await;
        let picky = partner(&app, "Picky", json!({"required_fields": "name,lastname,email,amount_lost"})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"first_name": "Ana", "email": "a@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 1).await;
        let l = lead(&app, &r["lead_id"]).await;
        assert_eq!(l["routing"][0]["reason"], "lead lacks required fields: lastname, amount_lost");
        let (_, ok) = app.send_lead(&token, json!({"name": "Ana Ruiz", "email": "b@x.de", "country": "de",
            "niche": "forex", "Amount Lost": "5000"})).await;
        settled(&app, 2).await;
        assert_eq!(lead(&app, &ok["lead_id"]).await["partner_id"], picky);
        app.stop().await;
    }
}

both_backends! {
    async fn a_rejected_delivery_gives_the_capacity_back_and_the_lead_fails_over(db) {
        let app = TestApp::spawn(db).await;
        let a = partner(&app, "A", json!({})).await;
        let b = partner(&app, "B", json!({})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "f@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 1).await;
        let l = lead(&app, &r["lead_id"]).await;
        let first = l["partner_id"].as_i64().unwrap();
        let second = if first == a { b } else { a };
        assert_eq!(today(&app, first).await["total"], 1);

        let delivery = l["deliveries"][0]["id"].as_i64().unwrap();
        let now = chrono::Utc::now().timestamp_millis();
        assert!(app.store.end_delivery_unsuccessfully(delivery, leadrouter_core::status::DeliveryStatus::Rejected, "HTTP 400", now).await.unwrap());
        let moved = app.after_idle("failed over to the other partner", || async {
            let l = lead(&app, &r["lead_id"]).await;
            (l["partner_id"] == second).then_some(l)
        })
        .await;
        assert_eq!(today(&app, first).await["total"], 0, "the reservation was released");
        let deliveries = moved["deliveries"].as_array().unwrap();
        assert_eq!(deliveries.len(), 2);
        assert_eq!(deliveries[0]["status"], "rejected");
        let tried = moved["routing"].as_array().unwrap().iter().find(|e| e["partner_id"] == first).unwrap();
        assert_eq!(tried["reason"], "already tried for this lead");

        let delivery = deliveries[1]["id"].as_i64().unwrap();
        assert!(app.store.end_delivery_unsuccessfully(delivery, leadrouter_core::status::DeliveryStatus::Failed, "timeout", now).await.unwrap());
        app.after_idle("no partner left: failed", || async {
            (lead(&app, &r["lead_id"]).await["status"] == "failed").then_some(())
        })
        .await;
        app.stop().await;
    }
}

both_backends! {
    async fn a_partners_pacing_projects_its_day_from_its_pace_so_far(db) {
        // Tuesday 1 December 2026, 13:00 in Berlin; open 09:00-18:00.
        let clock = Arc::new(ManualClock::at(at("2026-12-01T12:00:00Z")));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let id = partner(&app, "Paced", json!({"daily_limit": 10, "premium_ratio": 50, "timezone": "Europe/Berlin",
            "business_hours": {"tue": ["09:00", "18:00"], "wed": ["09:00", "18:00"]}})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        for i in 0..4 {
            assert_eq!(app.send_lead(&token, lead_body(i, i % 2 == 0)).await.0, 202);
        }
        settled(&app, 4).await;
        let (status, p) = app.get(&format!("/api/admin/partners/{id}/pacing")).await;
        assert_eq!(status, 200, "{p}");
        assert_eq!((p["date"].as_str(), p["timezone"].as_str(), p["total"].as_i64(), p["limit"].as_i64()),
            (Some("2026-12-01"), Some("Europe/Berlin"), Some(4), Some(10)));
        assert_eq!((p["quota_premium"].as_i64(), p["quota_raw"].as_i64(), p["premium"].as_i64(), p["raw"].as_i64()),
            (Some(5), Some(5), Some(2), Some(2)));
        // 4 leads in 4 open hours: 5 more by 18:00, 9 in all; the tenth would come after
        // closing, so the cap is not reached today.
        assert_eq!((p["projected_total"].as_i64(), p["cap_reached_at"].clone()), (Some(9), json!(null)));
        assert_eq!(p["next_opening"], json!(null), "open now");
        clock.set(at("2026-12-01T18:30:00Z")); // 19:30: closed
        let (_, p) = app.get(&format!("/api/admin/partners/{id}/pacing")).await;
        assert_eq!(p["next_opening"], "2026-12-02T08:00:00.000Z");
        app.stop().await;
    }
}
