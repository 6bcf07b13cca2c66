//! Partners are isolated from each other: every portal route and every partner API route
//! that names another partner's lead, return or delivery answers 404 (or 403 for another
//! partner's path), from a portal session and from a partner key, and shows nothing of it;
//! a removed user's session stops working. On both backends.

use crate::portal::{fixture, logged_in};
use reqwest::Method;
use serde_json::{json, Value};

async fn key(app: &crate::support::TestApp, partner: i64) -> String {
    app.post(
        &format!("/api/admin/partners/{partner}/rotate-key"),
        json!({}),
    )
    .await
    .1["api_key"]
        .as_str()
        .unwrap()
        .to_string()
}

both_backends! {
    async fn another_partners_lead_return_or_delivery_is_never_reached(db) {
        let f = fixture(db).await;
        let app = &f.app;
        let (mine, theirs) = (key(app, f.mine).await, key(app, f.theirs).await);
        // Vienna returns its own lead: a return Berlin must not see or touch.
        let r = app.client.post(app.url(&format!("/api/return/{}", f.theirs))).bearer_auth(&theirs)
            .json(&json!({"lead_id": f.their_lead, "reason": "duplicate"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let (lead, other) = (f.their_lead.to_string(), f.theirs.to_string());

        // The partner API with Berlin's key: (method, path, body, expected status).
        let cases: Vec<(Method, String, Option<Value>, u16)> = vec![
            (Method::POST, format!("/api/conversion/{}", f.mine), Some(json!({"lead_id": f.their_lead, "conversion_type": "sale", "conversion_value": 1, "external_transaction_id": "x"})), 404),
            (Method::POST, format!("/api/postback/{}", f.mine), Some(json!({"lead_id": f.their_lead, "status": "converted", "value": 1})), 404),
            (Method::GET, format!("/api/lead/{lead}/status"), None, 404),
            (Method::POST, format!("/api/return/{}", f.mine), Some(json!({"lead_id": f.their_lead, "reason": "duplicate"})), 404),
            (Method::POST, format!("/api/conversion/{other}"), Some(json!({"lead_id": f.their_lead, "conversion_type": "sale", "conversion_value": 1, "external_transaction_id": "x"})), 403),
            (Method::POST, format!("/api/postback/{other}"), Some(json!({"lead_id": f.their_lead, "status": "converted", "value": 1})), 403),
            (Method::POST, format!("/api/return/{other}"), Some(json!({"lead_id": f.their_lead, "reason": "duplicate"})), 403),
            (Method::GET, format!("/api/return/{other}"), None, 403),
        ];
        for (method, path, body, want) in cases {
            let mut req = app.client.request(method.clone(), app.url(&path)).bearer_auth(&mine);
            if let Some(b) = &body {
                req = req.json(b);
            }
            let r = req.send().await.unwrap();
            let status = r.status().as_u16();
            let text = r.text().await.unwrap();
            assert_eq!(status, want, "{method} {path}: {text}");
            assert!(!text.contains("otto@example.at"), "{method} {path} shows the other partner's lead: {text}");
        }
        // Berlin's own views hold nothing of Vienna's.
        let r = app.client.get(app.url(&format!("/api/return/{}", f.mine))).bearer_auth(&mine).send().await.unwrap();
        assert_eq!(r.json::<Value>().await.unwrap()["returns"], json!([]));
        let r = app.client.get(app.url("/api/analytics/cpa")).bearer_auth(&mine).send().await.unwrap();
        let cpa: Value = r.json().await.unwrap();
        assert_eq!(cpa["analytics"].as_array().map(Vec::len), Some(1));
        assert_eq!(cpa["analytics"][0]["partner_id"], json!(f.mine));

        // The portal with a Berlin session.
        let (mut me, user) = logged_in(app, f.mine, "buyer@berlin.example").await;
        assert_eq!(me.get(&format!("/portal/leads/{lead}")).await.status, 404);
        let csrf = me.get("/portal").await.csrf();
        let asked = me.post("/portal/returns", &[("_csrf", csrf.as_str()), ("lead_id", lead.as_str()), ("reason", "duplicate")]).await;
        assert_eq!(asked.status, 404);
        for page in ["/portal", "/portal/returns", "/portal/conversions"] {
            let p = me.get(page).await;
            assert_eq!(p.status, 200, "{page}");
            assert!(!p.body.contains("otto@example.at") && !p.body.contains(&format!("#{lead}<")), "{page} shows Vienna's lead: {}", p.body);
        }
        // Searched for by id or address: no row (the search box shows what was typed).
        let row = scraper::Selector::parse("tbody tr").unwrap();
        for q in [lead.as_str(), "otto@example.at"] {
            let p = me.get(&format!("/portal?q={q}")).await;
            assert_eq!(p.html().select(&row).count(), 0, "search {q}: {}", p.body);
        }
        // A portal session is no partner key, and no admin session.
        assert_eq!(me.get("/api/admin/partners").await.status, 401);
        assert_eq!(me.get("/admin").await.status, 303);
        // Removed: the session stops working at once.
        let (s, _) = app.admin(Method::DELETE, &format!("/api/admin/partners/{}/users/{user}", f.mine), None).await;
        assert_eq!(s, 200);
        assert_eq!(me.get("/portal").await.status, 303);
        let _ = &f.rx;
        f.app.stop().await;
    }
}
