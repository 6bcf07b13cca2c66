use crate::support::TestApp;
use leadrouter_core::token::hash_secret;
use serde_json::Value;

async fn assert_unauthorized(r: reqwest::Response) {
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(body["error"].get("fields").is_none());
}

both_backends! {
    async fn admin_endpoints_require_a_valid_token(db) {
        let app = TestApp::spawn(db).await;
        let url = app.url("/api/admin/markets");

        assert_unauthorized(app.client.get(&url).send().await.unwrap()).await;
        assert_unauthorized(app.client.get(&url).bearer_auth("lra_not-a-real-token").send().await.unwrap()).await;
        assert_unauthorized(
            app.client.get(&url).basic_auth("admin", Some(&app.admin_token)).send().await.unwrap(),
        )
        .await;
        assert_unauthorized(app.client.get(&url).header("authorization", "Bearer ").send().await.unwrap()).await;

        let r = app.admin_get("/api/admin/markets").await;
        assert_eq!(r.status(), 200);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["success"], true);
        assert_eq!(body["markets"].as_array().unwrap().len(), 7);
        let niches: Value = app.admin_get("/api/admin/niches").await.json().await.unwrap();
        assert_eq!(niches["niches"][0]["slug"], "forex");
        app.stop().await;
    }
}

both_backends! {
    async fn a_revoked_token_is_refused(db) {
        let app = TestApp::spawn(db).await;
        assert_eq!(app.admin_get("/api/admin/markets").await.status(), 200);
        let token = app
            .store
            .use_admin_token(&hash_secret(&app.admin_token), 0)
            .await
            .unwrap()
            .unwrap();
        app.store
            .revoke_admin_token(token.id, 1, &leadrouter_store::audit::Actor::system("test"))
            .await
            .unwrap();
        assert_unauthorized(app.admin_get("/api/admin/markets").await).await;
        app.stop().await;
    }
}
