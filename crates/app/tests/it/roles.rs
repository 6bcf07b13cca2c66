//! Operator roles: an `admin` may do everything; a `viewer` sees every page and GET, but
//! any change, export of personal data or erasure is refused with 403 (the pages hide
//! those buttons), on the console and on the admin API. The last admin stays one.

use crate::support::console::Console;
use crate::support::TestApp;
use serde_json::json;

const ADMIN: &str = "ops@leadbiz.de";
const VIEWER: &str = "look@leadbiz.de";
const PASSWORD: &str = "correct horse battery staple";

/// An admin (logged in) who has added a viewer (logged in too).
pub(crate) async fn admin_and_viewer(app: &TestApp) -> (Console, Console, i64) {
    let mut admin = Console::new(app);
    assert_eq!(admin.first_run(ADMIN, PASSWORD).await.status, 303);
    let csrf = admin.csrf().await;
    let r = admin
        .post(
            "/admin/users",
            &[
                ("_csrf", &csrf),
                ("email", VIEWER),
                ("password", PASSWORD),
                ("role", "viewer"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let viewer_id = app
        .store
        .admin_user_by_email(VIEWER)
        .await
        .unwrap()
        .unwrap()
        .id;
    let mut viewer = Console::new(app);
    assert_eq!(viewer.login(VIEWER, PASSWORD).await.status, 303);
    (admin, viewer, viewer_id)
}

both_backends! {
    async fn a_viewer_sees_every_page_but_changes_exports_and_erases_nothing(db) {
        let app = crate::delivery::delivering(db, &[]).await;
        let (mut admin, mut viewer, viewer_id) = admin_and_viewer(&app).await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Berlin FX", "country": "germany", "niche": "forex",
            "daily_limit": 10, "webhook_url": "https://partner.test/in"})).await;
        assert_eq!(s, 201, "{p}");
        let pid = p["id"].as_i64().unwrap();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "anna@example.de", "country": "de", "niche": "forex"})).await;
        let lead = r["lead_id"].as_i64().unwrap();
        let users = viewer.get("/admin/users").await;
        assert!(users.body.contains("viewer") && !users.body.contains("Add user"), "{}", users.body);

        // Every page opens, without the buttons of changes.
        for path in ["/admin", "/admin/partners", &format!("/admin/partners/{pid}"), "/admin/leads",
            &format!("/admin/leads/{lead}"), "/admin/deliveries?status=failed", "/admin/returns", "/admin/sources",
            "/admin/rejected", "/admin/markets", "/admin/analytics", "/admin/notifications", "/admin/audit",
            "/admin/privacy", "/admin/users", "/admin/settings"] {
            let page = viewer.get(path).await;
            assert_eq!(page.status, 200, "{path}");
            for button in ["Pause", "Add Partner", "Export CSV", "Erase this person", "Export evidence", "Rotate API key", "Add market"] {
                assert!(!page.body.contains(&format!(">{button}<")), "{path} offers {button} to a viewer");
            }
        }
        assert!(admin.get(&format!("/admin/partners/{pid}")).await.body.contains(">Pause<"), "an admin's page has it");

        // Changes, exports and erasure: 403, and nothing happened.
        let csrf = viewer.csrf().await;
        let r = viewer.post(&format!("/admin/partners/{pid}/pause"), &[("_csrf", &csrf)]).await;
        assert_eq!(r.status, 403);
        assert!(r.body.contains("viewer"), "the page says why: {}", r.body);
        assert_eq!(r.text("h1").as_deref(), Some("Not allowed"), "a page in the console's chrome");
        assert_eq!(r.attr("a.button", "href").as_deref(), Some("/admin"));
        assert_eq!(app.get(&format!("/api/admin/partners/{pid}")).await.1["status"], "active");
        assert_eq!(viewer.get("/admin/leads.csv").await.status, 403);
        assert_eq!(viewer.get(&format!("/admin/leads/{lead}/evidence.json")).await.status, 403);
        assert_eq!(viewer.post(&format!("/admin/leads/{lead}/erase"), &[("_csrf", &csrf)]).await.status, 403);
        assert_eq!(viewer.post("/admin/privacy/erase", &[("_csrf", &csrf), ("email", "anna@example.de")]).await.status, 403);
        assert_eq!(app.get(&format!("/api/admin/leads/{lead}")).await.1["email"], "anna@example.de", "not erased");
        let r = viewer.post("/admin/users", &[("_csrf", &csrf), ("email", "x@leadbiz.de"), ("password", PASSWORD), ("role", "admin")]).await;
        assert_eq!(r.status, 403, "a viewer cannot make itself an admin");
        // The admin API answers the viewer's session the same way.
        let r = viewer.post_with(&format!("/api/admin/partners/{pid}/pause"), &[], &[("x-csrf-token", &csrf)]).await;
        assert_eq!(r.status, 403);
        assert_eq!(viewer.get("/api/admin/partners").await.status, 200);
        assert_eq!(viewer.get(&format!("/api/admin/leads/{lead}/evidence")).await.status, 403);
        // Its own account is its own business.
        assert_eq!(viewer.post("/admin/settings/timezone", &[("_csrf", &csrf), ("timezone", "Europe/Vienna")]).await.status, 303);

        // Made an admin, it may.
        let admin_csrf = admin.csrf().await;
        let r = admin.post(&format!("/admin/users/{viewer_id}/role"), &[("_csrf", &admin_csrf), ("role", "admin")]).await;
        assert_eq!(r.status, 303);
        assert_eq!(viewer.post(&format!("/admin/partners/{pid}/pause"), &[("_csrf", &csrf)]).await.status, 303);
        assert_eq!(app.get(&format!("/api/admin/partners/{pid}")).await.1["status"], "paused");
        // The audit trail says who changed the role.
        let (_, audit) = app.get("/api/admin/audit?entity=user").await;
        assert!(audit.to_string().contains("\"role\""), "{audit}");
        app.stop().await;
    }
}

both_backends! {
    async fn the_last_admin_cannot_be_made_a_viewer_or_removed(db) {
        let app = TestApp::spawn(db).await;
        let (mut admin, _viewer, _) = admin_and_viewer(&app).await;
        let me = app.store.admin_user_by_email(ADMIN).await.unwrap().unwrap().id;
        let csrf = admin.csrf().await;
        let r = admin.post(&format!("/admin/users/{me}/role"), &[("_csrf", &csrf), ("role", "viewer")]).await;
        assert_eq!(r.status, 422);
        assert!(r.body.contains("at least one admin"), "{}", r.body);
        assert_eq!(app.store.admin_user(me).await.unwrap().unwrap().role, leadrouter_core::role::Role::Admin);
        app.stop().await;
    }
}
