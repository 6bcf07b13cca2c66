//! The audit trail: creating a partner, changing two fields, pausing, rotating its secret
//! and deleting it each leave one entry with the actor (the API token, or the console's
//! user) and the fields before and after; no secret value is anywhere in the audit table;
//! a revert puts the earlier settings back and is an entry of its own. On both backends.

use crate::support::console::Console;
use crate::support::TestApp;
use serde_json::{json, Value};

const BEARER: &str = "audited-bearer-7Hq2";

async fn entries(app: &TestApp, id: i64) -> Vec<Value> {
    let (s, r) = app
        .get(&format!("/api/admin/audit?entity=partner&entity_id={id}"))
        .await;
    assert_eq!(s, 200, "{r}");
    r["entries"].as_array().unwrap().clone()
}

both_backends! {
    async fn every_change_to_a_partner_is_an_entry_and_revert_restores_the_settings(db) {
        let app = TestApp::spawn(db).await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Audited", "country": "germany",
            "niche": "forex", "daily_limit": 100, "premium_ratio": 70,
            "webhook_url": "https://93.184.216.34/in", "auth": {"type": "bearer", "token": BEARER}})).await;
        assert_eq!(s, 201, "{p}");
        let id = p["id"].as_i64().unwrap();
        let (api_key, signing) = (p["api_key"].as_str().unwrap().to_string(), p["signing_secret"].as_str().unwrap().to_string());
        let (s, r) = app.patch(&format!("/api/admin/partners/{id}"), json!({"daily_limit": 50, "premium_ratio": 30})).await;
        assert_eq!(s, 200, "{r}");
        // Saved again as it is: no change, no entry.
        let (s, r) = app.patch(&format!("/api/admin/partners/{id}"), json!({"daily_limit": 50})).await;
        assert_eq!(s, 200, "{r}");
        // Paused from the console, by a user.
        let mut console = Console::new(&app);
        console.first_run("ops@leadbiz.de", "correct horse battery").await;
        let page = console.get(&format!("/admin/partners/{id}")).await;
        let paused = console.post(&format!("/admin/partners/{id}/pause"), &[("_csrf", &page.csrf())]).await;
        assert!(paused.status < 400, "{}", paused.status);
        let (s, r) = app.post(&format!("/api/admin/partners/{id}/rotate-secret"), json!({})).await;
        assert_eq!(s, 200, "{r}");
        let new_secret = r["signing_secret"].as_str().unwrap().to_string();

        let e = entries(&app, id).await;
        let actions: Vec<&str> = e.iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["rotate_secret", "pause", "update", "create"], "newest first");
        let by_token = json!({"kind": "token", "id": e[0]["actor"]["id"], "name": "test"});
        assert_eq!(e[0]["actor"], by_token);
        assert_eq!(e[0]["changes"], json!({"signing_secret": {"changed": true}}));
        assert_eq!(e[1]["actor"]["kind"], "user");
        assert_eq!(e[1]["actor"]["name"], "ops@leadbiz.de");
        assert_eq!(e[1]["changes"]["status"], json!({"before": "active", "after": "paused"}));
        assert_eq!(e[2]["actor"], by_token);
        assert_eq!(e[2]["changes"], json!({"daily_limit": {"before": 100, "after": 50},
            "premium_ratio": {"before": 70, "after": 30}}), "exactly the two fields changed");
        assert_eq!(e[3]["changes"]["auth"], json!({"changed": true}));
        assert_eq!(e[3]["changes"]["name"], json!({"before": null, "after": "Audited"}));
        assert_eq!(e[3]["entity"], "partner");
        for secret in [BEARER, api_key.as_str(), signing.as_str(), new_secret.as_str()] {
            let found = app.store.text_containing_for_tests(secret).await;
            assert!(!found.iter().any(|c| c.starts_with("audit_log.")), "{secret} in {found:?}");
        }

        // A later edit of another field stands when the update is reverted.
        let (s, r) = app.patch(&format!("/api/admin/partners/{id}"), json!({"timezone": "Europe/Vienna"})).await;
        assert_eq!(s, 200, "{r}");
        // Back to before the update: limit and ratio as they were, and nothing else: the
        // later pause (a broken endpoint, say) and the later timezone stand.
        let update_id = e[2]["id"].as_i64().unwrap();
        let (s, r) = app.post(&format!("/api/admin/partners/{id}/revert"), json!({"audit_id": update_id})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["daily_limit"].as_i64(), r["premium_ratio"].as_i64()), (Some(100), Some(70)), "{r}");
        assert_eq!(r["status"], "paused", "a revert of an edit does not resume the partner");
        assert_eq!(r["timezone"], "Europe/Vienna", "a later edit of another field stands");
        assert_eq!(r["auth"]["type"], "bearer", "credentials are kept");
        let e = entries(&app, id).await;
        assert_eq!(e[0]["action"], "revert", "{e:?}");
        assert_eq!(e[0]["changes"], json!({"daily_limit": {"before": 50, "after": 100},
            "premium_ratio": {"before": 30, "after": 70}}));
        // Reverting the pause undoes the pause: active again.
        let pause_id = e.iter().find(|x| x["action"] == "pause").unwrap()["id"].as_i64().unwrap();
        let (s, r) = app.post(&format!("/api/admin/partners/{id}/revert"), json!({"audit_id": pause_id})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["status"], "active");
        assert_eq!(r["timezone"], "Europe/Vienna");
        let e = entries(&app, id).await;
        assert_eq!(e[0]["action"], "resume", "{e:?}");
        let (s, _) = app.post(&format!("/api/admin/partners/{id}/revert"), json!({"audit_id": e.last().unwrap()["id"]})).await;
        assert_eq!(s, 422, "nothing before a creation");

        let (s, _) = app.admin(reqwest::Method::DELETE, &format!("/api/admin/partners/{id}"), None).await;
        assert_eq!(s, 200);
        let e = entries(&app, id).await;
        assert_eq!(e[0]["action"], "delete");
        assert_eq!(e[0]["changes"]["name"], json!({"before": "Audited", "after": null}));
        // Filters and paging.
        let (_, page) = app.get(&format!("/api/admin/audit?entity=partner&entity_id={id}&limit=2")).await;
        let page = page["entries"].as_array().unwrap();
        assert_eq!(page.len(), 2);
        let (_, rest) = app.get(&format!("/api/admin/audit?entity=partner&entity_id={id}&before={}", page[1]["id"])).await;
        assert_eq!(rest["entries"][0]["id"].as_i64().unwrap(), e[2]["id"].as_i64().unwrap());
        app.stop().await;
    }
}

both_backends! {
    async fn sources_tokens_and_users_are_audited_too(db) {
        let app = TestApp::spawn(db).await;
        let (source_id, _) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (s, _) = app.patch(&format!("/api/admin/sources/{source_id}"), json!({"name": "Landing page"})).await;
        assert_eq!(s, 200);
        let (s, _) = app.post(&format!("/api/admin/sources/{source_id}/rotate-token"), json!({})).await;
        assert_eq!(s, 200);
        let (_, r) = app.get(&format!("/api/admin/audit?entity=source&entity_id={source_id}")).await;
        let actions: Vec<&str> = r["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["rotate_key", "update", "create"]);
        assert_eq!(r["entries"][1]["changes"], json!({"name": {"before": "LP", "after": "Landing page"}}));
        assert_eq!(r["entries"][0]["changes"], json!({"token": {"changed": true}}));
        let mut console = Console::new(&app);
        console.first_run("first@leadbiz.de", "correct horse battery").await;
        let (_, r) = app.get("/api/admin/audit?entity=user").await;
        assert_eq!(r["entries"][0]["action"], "create");
        assert_eq!(r["entries"][0]["changes"]["email"]["after"], "first@leadbiz.de");
        assert_eq!(r["entries"][0]["changes"]["password"], json!({"changed": true}));
        let (_, r) = app.get("/api/admin/audit?entity=token").await;
        assert_eq!(r["entries"][0]["changes"]["name"]["after"], "test", "the test's own token");
        app.stop().await;
    }
}
