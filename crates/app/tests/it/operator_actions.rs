//! What operators do to leads and partners by hand, through the running server: retry,
//! assign (past the cap, never past the SSRF guard), pause and delete with fail-over.

use crate::routing::{lead, partner, settled, today};
use crate::support::TestApp;
use serde_json::json;

both_backends! {
    async fn operators_retry_and_assign_leads_and_filter_by_partner(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "op@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 1).await;
        let lead_id = r["lead_id"].as_i64().unwrap();
        let full = partner(&app, "Full", json!({"daily_limit": 1, "premium_ratio": 0})).await;
        settled(&app, 1).await;
        app.after_idle("assigned to Full", || async { (lead(&app, &r["lead_id"]).await["partner_id"] == full).then_some(()) }).await;

        // A second lead waits: Full is full. The operator assigns it anyway, and is told.
        let (_, r2) = app.send_lead(&token, json!({"email": "op2@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 2).await;
        let second = r2["lead_id"].as_i64().unwrap();
        assert_eq!(lead(&app, &r2["lead_id"]).await["status"], "held");
        let (status, a) = app.post(&format!("/api/admin/leads/{second}/assign"), json!({"partner_id": full})).await;
        assert_eq!(status, 200, "{a}");
        assert_eq!(a["over_cap"], true);
        assert!(a["warnings"][0].as_str().unwrap().contains("over its daily limit: 2/1"), "{a}");
        assert_eq!(today(&app, full).await["total"], 2);
        let (status, _) = app.post(&format!("/api/admin/leads/{second}/assign"), json!({"partner_id": full})).await;
        assert_eq!(status, 409, "not assignable twice");
        assert_eq!(app.post(&format!("/api/admin/leads/{second}/assign"), json!({})).await.0, 422);
        assert_eq!(app.post("/api/admin/leads/999999/assign", json!({"partner_id": full})).await.0, 404);

        let (_, mine) = app.get(&format!("/api/admin/leads?partner_id={full}")).await;
        assert_eq!(mine["leads"].as_array().unwrap().len(), 2);

        // Retry: only for held, failed or expired leads.
        assert_eq!(app.post(&format!("/api/admin/leads/{lead_id}/retry"), json!({})).await.0, 409);
        let (_, r3) = app.send_lead(&token, json!({"email": "op3@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 3).await;
        let third = r3["lead_id"].as_i64().unwrap();
        let (status, body) = app.post(&format!("/api/admin/leads/{third}/retry"), json!({})).await;
        assert_eq!((status, body["status"].as_str()), (200, Some("queued")));
        settled(&app, 3).await;
        assert_eq!(lead(&app, &r3["lead_id"]).await["status"], "held", "still no room");
        app.stop().await;
    }
}

/// Assigning by hand still respects the SSRF guard: a partner saved under an allow-list is
/// refused by an instance that does not have it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_assignment_still_respects_the_ssrf_guard() {
    let db = leadrouter_store::testing::TestDatabase::sqlite();
    let mut lenient =
        TestApp::spawn_with(db, &[("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")]).await;
    let internal = partner(
        &lenient,
        "Internal",
        json!({"webhook_url": "https://127.0.0.1:9443/hook", "daily_limit": 5}),
    )
    .await;
    lenient.stop_tasks_only().await;
    let strict = lenient.another_instance(&[]).await;
    let (_, token) = strict.source(json!({"name": "S", "kind": "webhook"})).await;
    let (_, r) = strict
        .send_lead(
            &token,
            json!({"email": "x@x.de", "country": "es", "niche": "forex"}),
        )
        .await;
    settled(&strict, 1).await;
    let (status, body) = strict
        .post(
            &format!("/api/admin/leads/{}/assign", r["lead_id"]),
            json!({"partner_id": internal}),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert!(
        body["error"]["fields"]["partner_id"]
            .as_str()
            .unwrap()
            .contains("loopback"),
        "{body}"
    );
    strict.stop().await;
}

both_backends! {
    async fn pausing_or_deleting_a_partner_sends_its_waiting_leads_elsewhere(db) {
        // Delivery is off here, so assigned leads wait at their partner.
        let app = TestApp::spawn(db).await;
        let first = partner(&app, "First", json!({})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "w@x.de", "country": "de", "niche": "forex"})).await;
        settled(&app, 1).await;
        assert_eq!(lead(&app, &r["lead_id"]).await["partner_id"], first);
        let second = partner(&app, "Second", json!({})).await;
        let third = partner(&app, "Third", json!({})).await;

        assert_eq!(app.post(&format!("/api/admin/partners/{first}/pause"), json!({})).await.0, 200);
        let moved = app.after_idle("moved off the paused partner", || async {
            let l = lead(&app, &r["lead_id"]).await;
            (l["status"] == "assigned" && l["partner_id"] != first).then_some(l)
        })
        .await;
        assert_eq!(moved["deliveries"][0]["status"], "withdrawn", "the pause's, not the partner's try");
        assert_eq!(today(&app, first).await["total"], 0, "its capacity was given back");

        let now_at = moved["partner_id"].as_i64().unwrap();
        let other = if now_at == second { third } else { second };
        assert_eq!(app.admin(reqwest::Method::DELETE, &format!("/api/admin/partners/{now_at}"), None).await.0, 200);
        let last = app.after_idle("moved off the deleted partner", || async {
            let l = lead(&app, &r["lead_id"]).await;
            (l["partner_id"] == other).then_some(l)
        })
        .await;
        let ended = last["deliveries"].as_array().unwrap().iter()
            .find(|d| d["partner_id"] == now_at).cloned().unwrap();
        assert_eq!(ended["status"], "failed", "a deleted partner's delivery ends for good");
        app.stop().await;
    }
}
