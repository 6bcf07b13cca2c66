//! Lead sources through the admin API, on both backends.

use crate::support::TestApp;
use leadrouter_core::token::hash_secret;
use reqwest::Method;
use serde_json::{json, Value};

both_backends! {
    async fn a_source_gets_a_token_shown_once_and_its_inbound_url(db) {
        let app = TestApp::spawn_with(db, &[("LEADROUTER_PUBLIC_URL", "https://leads.example.com")]).await;
        let (status, s) = app
            .post("/api/admin/sources", json!({"name": "DE landing", "kind": "landing_page",
                "default_country": "DE", "default_niche": "forex", "default_lead_type": "premium",
                "source_label": "lp_de", "redirect_url": "https://example.com/thanks"}))
            .await;
        assert_eq!(status, 201, "{s}");
        let token = s["token"].as_str().unwrap().to_string();
        assert!(token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(s["inbound_url"], format!("https://leads.example.com/api/webhook/{token}"));
        assert_eq!(s["default_country"], "germany");
        assert_eq!(s["status"], "active");
        let id = s["id"].as_i64().unwrap();
        assert_eq!(app.store.source_by_token(&hash_secret(&token)).await.unwrap().unwrap().id, id);

        let (status, fetched) = app.get(&format!("/api/admin/sources/{id}")).await;
        assert_eq!(status, 200);
        assert!(fetched.get("token").is_none() && fetched.get("inbound_url").is_none());
        assert!(!fetched.to_string().contains(&token));
        assert_eq!(fetched["token_prefix"], token[..8]);
        let (_, list) = app.get("/api/admin/sources").await;
        assert!(!list.to_string().contains(&token));
        assert_eq!(list["sources"][0]["id"], id);

        let (status, updated) = app
            .patch(&format!("/api/admin/sources/{id}"), json!({"status": "disabled", "source_label": "lp_de_2"}))
            .await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!((updated["status"].as_str(), updated["source_label"].as_str()), (Some("disabled"), Some("lp_de_2")));
        assert_eq!(updated["default_niche"], "forex", "untouched");

        let (_, rotated) = app.post(&format!("/api/admin/sources/{id}/rotate-token"), json!({})).await;
        let new_token = rotated["token"].as_str().unwrap();
        assert_ne!(new_token, token);
        assert!(app.store.source_by_token(&hash_secret(&token)).await.unwrap().is_none());
        assert!(app.store.source_by_token(&hash_secret(new_token)).await.unwrap().is_some());

        assert_eq!(app.admin(Method::DELETE, &format!("/api/admin/sources/{id}"), None).await.0, 200);
        assert_eq!(app.get(&format!("/api/admin/sources/{id}")).await.0, 404);
        assert!(app.store.source_by_token(&hash_secret(new_token)).await.unwrap().is_none());
        app.stop().await;
    }
}

both_backends! {
    async fn a_facebook_source_keeps_its_credentials_to_itself(db) {
        let app = TestApp::spawn(db).await;
        let (status, r) = app.post("/api/admin/sources", json!({"name": "FB DE", "kind": "facebook"})).await;
        assert_eq!(status, 422);
        assert!(r["error"]["fields"]["facebook"].as_str().unwrap().contains("required"));
        let (status, s) = app
            .post("/api/admin/sources", json!({"name": "FB DE", "kind": "facebook",
                "facebook": {"app_secret": "fb-app-s3cret", "verify_token": "fb-verify-s3cret",
                             "access_token": "EAAB-access-s3cret"}}))
            .await;
        assert_eq!(status, 201, "{s}");
        assert!(s["inbound_url"].as_str().unwrap().contains("/api/facebook/"));
        assert_eq!(s["facebook"], json!({"configured": true}));
        let (_, fetched) = app.get(&format!("/api/admin/sources/{}", s["id"])).await;
        for body in [s.to_string(), fetched.to_string()] {
            assert!(!body.contains("s3cret"), "{body}");
        }
        app.stop().await;
    }
}

both_backends! {
    async fn invalid_sources_are_refused_field_by_field(db) {
        let app = TestApp::spawn(db).await;
        let (status, r) = app
            .post("/api/admin/sources", json!({"name": "", "kind": "pigeon", "default_country": "mars",
                "default_lead_type": "gold", "redirect_url": "not a url"}))
            .await;
        assert_eq!(status, 422);
        let fields: Vec<&String> = r["error"]["fields"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["default_country", "default_lead_type", "kind", "name", "redirect_url"]);
        assert_eq!(app.get("/api/admin/sources").await.1["sources"], Value::Array(vec![]));
        app.stop().await;
    }
}
