//! The console's other pages over HTTP: the leads explorer (search, filters, CSV), a lead's
//! Retry and Assign, sources (URL and token once, the landing-page form), settings (users,
//! password, timezone), markets. On both backends.

use crate::console::typed;
use crate::support::console::Console;
use crate::support::TestApp;
use serde_json::json;

const EMAIL: &str = "ops@leadbiz.de";
const PASSWORD: &str = "correct horse battery staple";

async fn session(app: &TestApp) -> (Console, String) {
    let mut c = Console::new(app);
    assert_eq!(c.first_run(EMAIL, PASSWORD).await.status, 303);
    let csrf = c.csrf().await;
    (c, csrf)
}

fn rows(page: &crate::support::console::Page) -> Vec<String> {
    let sel = scraper::Selector::parse("tbody tr").unwrap();
    page.html()
        .select(&sel)
        .map(|r| r.text().collect::<Vec<_>>().join(" "))
        .collect()
}

both_backends! {
    async fn the_leads_explorer_searches_filters_and_exports_what_it_shows(db) {
        let app = TestApp::spawn(db).await;
        let (mut c, csrf) = session(&app).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        for (first, email, country) in [("Anna", "anna@x.de", "de"), ("Bruno", "bruno@y.es", "es"), ("Carla", "carla@x.de", "de")] {
            assert_eq!(app.send_lead(&token, json!({"first_name": first, "last_name": "Test", "email": email,
                "country": country, "niche": "forex"})).await.0, 202);
        }
        app.run_until_idle().await;
        let all = c.get("/admin/leads").await;
        assert_eq!(rows(&all).len(), 3);
        let found = c.get("/admin/leads?q=bruno@y.es").await;
        assert_eq!(rows(&found).len(), 1);
        assert!(rows(&found)[0].contains("bruno@y.es"));
        let by_name = c.get("/admin/leads?q=carl").await;
        assert_eq!(rows(&by_name).len(), 1, "part of a name");
        let german = c.get("/admin/leads?country=germany").await;
        assert_eq!(rows(&german).len(), 2);
        let (other, other_token) = app.source(json!({"name": "Other", "kind": "webhook"})).await;
        assert_eq!(app.send_lead(&other_token, json!({"email": "dora@z.de", "country": "de", "niche": "forex"})).await.0, 202);
        let by_source = c.get(&format!("/admin/leads?source_id={other}")).await;
        assert_eq!(rows(&by_source).len(), 1);
        assert!(rows(&by_source)[0].contains("dora@z.de"));
        let none = c.get("/admin/leads?status=delivered").await;
        assert!(none.body.contains("No leads match."));
        let bad = c.get("/admin/leads?status=lost").await;
        assert!(bad.text(".error").unwrap().contains("status"), "a bad filter is said, not a 500");
        let csv = c.get("/admin/leads.csv?country=germany").await;
        assert_eq!(csv.status, 200);
        let lines: Vec<&str> = csv.body.lines().collect();
        assert_eq!(lines[0], "id,received_at,status,first_name,last_name,email,phone,country,niche,lead_type,source,partner");
        assert_eq!(lines.len(), 4, "{}", csv.body);
        assert!(lines.iter().skip(1).all(|l| l.contains(".de,")), "{}", csv.body);
        // Held (no partner yet): Retry puts it back; Assign sends it to a partner named here.
        let id = found.attr("tbody tr a", "href").unwrap();
        let lead = c.get(&id).await;
        assert!(lead.body.contains("Retry") && lead.body.contains("No partner of this lead's market to assign it to"), "{}", lead.body);
        let r = c.post(&format!("{id}/retry"), &[("_csrf", &csrf)]).await;
        assert_eq!(r.status, 303);
        assert!(c.get(&id).await.text(".notice").unwrap().contains("back in routing"));
        app.run_until_idle().await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Spain FX", "country": "spain", "niche": "forex",
            "webhook_url": "https://fxpartners.com/api/leads"})).await;
        assert_eq!(s, 201, "{p}");
        app.run_until_idle().await;
        let (s, p2) = app.post("/api/admin/partners", json!({"name": "German FX", "country": "germany", "niche": "forex",
            "webhook_url": "https://germanfx.com/webhook/leads"})).await;
        assert_eq!(s, 201);
        let r = c.post(&format!("{id}/assign"), &[("_csrf", &csrf), ("partner_id", &p2["id"].to_string())]).await;
        assert_eq!(r.status, 303);
        let after = c.get(&id).await;
        let notice = after.text(".notice").unwrap();
        assert!(notice.contains("Not assigned") || notice.contains("Lead assigned"), "{notice}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_new_source_shows_its_url_and_token_once_with_a_form_for_landing_pages(db) {
        let app = TestApp::spawn(db).await;
        let (mut c, csrf) = session(&app).await;
        let r = c.post("/admin/sources", &[("_csrf", &csrf), ("name", "Spring campaign"), ("kind", "landing_page"),
            ("default_country", "germany"), ("default_niche", "forex"), ("redirect_url", "https://leadbiz.de/thanks")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let path = r.location.unwrap();
        let page = c.get(&path).await;
        let url = page.html().select(&scraper::Selector::parse(".secret code").unwrap()).next().unwrap().text().collect::<String>();
        assert!(url.contains("/api/webhook/"), "{url}");
        let snippet = page.text(".secret pre").unwrap();
        assert!(snippet.contains(&format!("action=\"{url}\"")) && snippet.contains("name=\"email\""), "{snippet}");
        // The form a visitor fills posts a lead (and comes back to the thank-you page).
        let token = url.rsplit('/').next().unwrap();
        let visitor = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        // (The URL shown names LEADROUTER_PUBLIC_URL; the test server listens elsewhere.)
        let r = visitor.post(app.url(&format!("/api/webhook/{token}"))).form(&[("first_name", "Eva"), ("last_name", "Lang"), ("email", "eva@lang.de"),
            ("phone", "+4915112345678"), ("country", "germany"), ("niche", "forex")]).send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(!c.get(&path).await.body.contains(token), "the token is shown once");
        // Rotating gives a new one; the old one stops working; disabling refuses leads.
        let r = c.post(&format!("{path}/rotate-token"), &[("_csrf", &csrf)]).await;
        let page = c.get(&r.location.unwrap()).await;
        assert!(!page.body.contains(token) && page.body.contains("/api/webhook/"));
        assert_eq!(app.send_lead(token, json!({"email": "x@y.de", "country": "de", "niche": "forex"})).await.0, 401);
        let r = c.post(&format!("{path}/status"), &[("_csrf", &csrf), ("status", "disabled")]).await;
        assert_eq!(r.status, 303);
        assert!(c.get(&path).await.body.contains("Enable"));
        let list = c.get("/admin/sources").await;
        assert!(rows(&list)[0].contains("disabled"));
        app.stop().await;
    }
}

both_backends! {
    async fn settings_add_and_remove_operators_and_a_password_change_ends_other_sessions(db) {
        let app = TestApp::spawn(db).await;
        let (mut c, csrf) = session(&app).await;
        let r = c.post("/admin/users", &[("_csrf", &csrf), ("email", "second@leadbiz.de"), ("password", "short"), ("role", "admin")]).await;
        assert_eq!(r.status, 422);
        assert!(r.error_beside("Password").unwrap_or_default().contains("at least 12"), "{}", r.body);
        let r = c.post("/admin/users", &[("_csrf", &csrf), ("email", "second@leadbiz.de"), ("password", "another long password"), ("role", "admin")]).await;
        assert_eq!(r.status, 303);
        let mut second = Console::new(&app);
        assert_eq!(second.login("second@leadbiz.de", "another long password").await.status, 303);
        // My other session (a second login of mine) ends when I change my password.
        let mut mine_elsewhere = Console::new(&app);
        assert_eq!(mine_elsewhere.login(EMAIL, PASSWORD).await.status, 303);
        let r = c.post("/admin/settings/password", &[("_csrf", &csrf), ("current", "wrong"), ("password", "a new long password"), ("confirm", "a new long password")]).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_beside("Current password").as_deref(), Some("is not your current password"));
        let r = c.post("/admin/settings/password", &[("_csrf", &csrf), ("current", PASSWORD), ("password", "a new long password"), ("confirm", "a new long password")]).await;
        assert_eq!(r.status, 200);
        assert_eq!(c.get("/admin").await.status, 200, "this browser goes on (in a new session)");
        assert_eq!(mine_elsewhere.get("/admin").await.status, 303, "the other one ended");
        let old_csrf = csrf;
        let csrf = c.csrf().await;
        assert_ne!(csrf, old_csrf, "a new CSRF token with the new session");
        assert_eq!(second.get("/admin").await.status, 200, "other operators are not affected");
        // Removing an operator ends its sessions.
        let users = c.get("/admin/users").await;
        let remove = users.attr("form[action$='/remove']", "action").unwrap();
        assert_eq!(c.post(&remove, &[("_csrf", &csrf)]).await.status, 303);
        assert_eq!(second.get("/admin").await.status, 303);
        assert_eq!(second.login("second@leadbiz.de", "another long password").await.status, 200, "no such account now");
        // Times follow the operator's timezone.
        let r = c.post("/admin/settings/timezone", &[("_csrf", &csrf), ("timezone", "Europe/Berlin")]).await;
        assert_eq!(r.status, 303);
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        app.send_lead(&token, json!({"email": "tz@x.de", "country": "de", "niche": "forex"})).await;
        let leads = c.get("/admin/leads").await;
        assert!(rows(&leads)[0].contains("CET") || rows(&leads)[0].contains("CEST"), "{:?}", rows(&leads));
        app.stop().await;
    }
}

both_backends! {
    async fn an_operator_adds_a_market_and_a_niche(db) {
        let app = TestApp::spawn(db).await;
        let (mut c, csrf) = session(&app).await;
        let r = c.post("/admin/markets/new", &[("_csrf", &csrf), ("slug", "france"), ("name", "France"), ("iso_code", "FRA"),
            ("phone_code", "33"), ("default_timezone", "Europe/Paris")]).await;
        assert_eq!(r.status, 422);
        assert!(r.error_beside("ISO code").unwrap().contains("alpha-2"));
        assert_eq!(r.value_of("Name").as_deref(), Some("France"));
        let r = c.post("/admin/markets/new", &[("_csrf", &csrf), ("slug", "france"), ("name", "France"), ("iso_code", "FR"),
            ("phone_code", "33"), ("default_timezone", "Europe/Paris"), ("aliases", "La France, Frankreich")]).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let r = c.post("/admin/niches/new", &[("_csrf", &csrf), ("slug", "crypto")]).await;
        assert_eq!(r.status, 303);
        let page = c.get("/admin/markets").await;
        assert!(page.body.contains("Europe/Paris") && page.body.contains("frankreich") && page.body.contains("Crypto"));
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Paris", "country": "Frankreich", "niche": "crypto",
            "webhook_url": "https://fxpartners.com/api/leads"})).await;
        assert_eq!(s, 201, "the new market and niche are usable: {p}");
        app.stop().await;
    }
}

both_backends! {
    async fn an_operator_edits_pauses_resumes_and_rotates_a_partner(db) {
        let app = TestApp::spawn(db).await;
        let (mut c, csrf) = session(&app).await;
        let r = c.post("/admin/partners", &typed(&[("name", "Edit Me"), ("country", "germany"), ("niche", "forex"),
            ("webhook_url", "https://fxpartners.com/api/leads"), ("auth_type", "bearer"), ("auth_token", "s3cret-token")], &csrf)).await;
        assert_eq!(r.status, 303, "{}", r.body);
        let path = r.location.unwrap();
        c.get(&path).await;
        let edit = c.get(&format!("{path}/edit")).await;
        assert_eq!(edit.value_of("Partner Name").as_deref(), Some("Edit Me"));
        assert!(!edit.body.contains("s3cret-token"), "credentials are never shown");
        // Saving without retyping the token keeps it; the limit changes.
        let r = c.post(&path, &typed(&[("name", "Edit Me"), ("country", "germany"), ("niche", "forex"), ("daily_limit", "7"),
            ("premium_ratio", "50%"), ("phone_format", "international"),
            ("webhook_url", "https://fxpartners.com/api/leads"), ("auth_type", "bearer")], &csrf)).await;
        assert_eq!(r.status, 303, "{}", r.body);
        // An emptied required field is refused by name, the rest kept as typed.
        let r = c.post(&path, &typed(&[("name", ""), ("country", "germany"), ("niche", "forex"), ("daily_limit", "9"),
            ("premium_ratio", "50%"), ("phone_format", "international"), ("webhook_url", "https://fxpartners.com/api/leads")], &csrf)).await;
        assert_eq!(r.status, 422);
        assert!(r.error_beside("Partner Name").is_some(), "{}", r.body);
        assert_eq!(r.value_of("Daily Limit").as_deref(), Some("9"));
        let id = path.rsplit('/').next().unwrap();
        let (_, p) = app.get(&format!("/api/admin/partners/{id}")).await;
        assert_eq!((p["daily_limit"].as_i64(), p["auth"]["type"].as_str()), (Some(7), Some("bearer")));
        assert_eq!(c.post(&format!("{path}/pause"), &[("_csrf", &csrf)]).await.status, 303);
        assert!(c.get(&path).await.body.contains("Resume"));
        assert_eq!(app.get(&format!("/api/admin/partners/{id}")).await.1["status"], "paused");
        assert_eq!(c.post(&format!("{path}/resume"), &[("_csrf", &csrf)]).await.status, 303);
        assert_eq!(app.get(&format!("/api/admin/partners/{id}")).await.1["status"], "active");
        let r = c.post(&format!("{path}/rotate-key"), &[("_csrf", &csrf)]).await;
        let page = c.get(&r.location.unwrap()).await;
        let key = page.html().select(&scraper::Selector::parse(".secret code").unwrap()).next().unwrap().text().collect::<String>();
        assert!(key.starts_with("pk_"), "{key}");
        let r = reqwest::Client::new().get(format!("{}/api/analytics/cpa", app.base)).bearer_auth(&key).send().await.unwrap();
        assert_eq!(r.status(), 200, "the new key works");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_pages_forbid_inline_script_framing_sniffing_and_caching() {
    let app = TestApp::spawn(leadrouter_store::testing::TestDatabase::sqlite()).await;
    for path in ["/admin/setup", "/admin/login", "/admin"] {
        let r = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .unwrap();
        let h = |k: &str| {
            r.headers()
                .get(k)
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let csp = h("content-security-policy");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert_eq!(h("cache-control"), "no-store");
    }
    // The pages themselves carry no inline script: every <script> has a src.
    let page = reqwest::get(format!("{}/admin/setup", app.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("<script>") && !page.contains(" style=\""),
        "{page}"
    );
    app.stop().await;
}
