//! The operator's console over HTTP, as a browser without JavaScript would use it: first
//! run, login, throttling, CSRF, logout and expiry, pages without a session, the admin API
//! on a session, and the Add Partner form making the partners the API makes. On both
//! backends where storage is involved.

use crate::support::console::Console;
use crate::support::TestApp;
use leadrouter_core::clock::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;

const EMAIL: &str = "ops@leadbiz.de";
const PASSWORD: &str = "correct horse battery staple";

async fn logged_in(app: &TestApp) -> Console {
    let mut c = Console::new(app);
    let r = c.first_run(EMAIL, PASSWORD).await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/admin")),
        "{}",
        r.body
    );
    c
}

both_backends! {
    async fn first_run_creates_the_admin_then_login_and_logout_work(db) {
        let app = TestApp::spawn(db).await;
        let mut c = Console::new(&app);
        let r = c.get("/admin").await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/login")));
        let r = c.get("/admin/login").await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/setup")), "no admin yet");
        let r = c.get("/admin/setup").await;
        assert_eq!(r.status, 200);
        assert!(r.body.contains("Confirm password") && r.body.contains("Create admin"));
        let r = c.post("/admin/setup", &[("email", EMAIL), ("password", PASSWORD), ("confirm", "something else")]).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_beside("Confirm password").as_deref(), Some("does not match the password"));
        assert_eq!(r.value_of("Email").as_deref(), Some(EMAIL), "what was typed comes back");
        let r = c.first_run(EMAIL, PASSWORD).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin")));
        let session = c.cookie.clone().expect("a session cookie");
        assert_eq!(c.get("/admin/setup").await.status, 404, "setup is gone once an admin exists");
        let home = c.get("/admin").await;
        assert_eq!(home.status, 200);
        for label in ["Overview", "Partners", "Leads", "Deliveries", "Sources", "Analytics", "Notifications"] {
            assert!(home.html().root_element().text().any(|t| t.trim() == label), "nav link {label}");
        }
        assert!(home.body.contains("Log out"));

        // Logout needs the token too, and then the old cookie is worth nothing.
        assert_eq!(c.post("/admin/logout", &[]).await.status, 403);
        let csrf = c.csrf().await;
        let r = c.post("/admin/logout", &[("_csrf", &csrf)]).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/login")));
        c.cookie = Some(session);
        let r = c.get("/admin").await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin/login")), "the ended session no longer works");

        let r = c.login(EMAIL, "wrong password!").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.text(".error").as_deref(), Some("Invalid email or password"));
        let r = c.login("nobody@leadbiz.de", PASSWORD).await;
        assert_eq!(r.text(".error").as_deref(), Some("Invalid email or password"), "an unknown e-mail reads the same");
        let r = c.login(EMAIL, PASSWORD).await;
        assert_eq!((r.status, r.location.as_deref()), (303, Some("/admin")));
        assert_eq!(c.get("/admin").await.status, 200);
        app.stop().await;
    }
}

both_backends! {
    async fn five_failed_logins_make_that_address_wait_even_for_the_right_password(db) {
        let app = TestApp::spawn(db).await;
        let mut setup = Console::new(&app);
        setup.first_run(EMAIL, PASSWORD).await;
        let mut c = Console::new(&app);
        for _ in 0..5 {
            let r = c.login(EMAIL, "not the password").await;
            assert_eq!(r.status, 200);
        }
        let r = c.login(EMAIL, PASSWORD).await;
        assert_eq!(r.status, 429, "{}", r.body);
        assert_eq!(r.text(".error").as_deref(), Some("Too many failed attempts. Try again in 1 minute."));
        assert!(c.cookie.is_none(), "no session");
        // Another account from the same address is not held up by these five (the address
        // itself waits only after ten failures, whatever the accounts).
        assert_eq!(c.login("other@leadbiz.de", PASSWORD).await.status, 200);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lockout_and_sessions_end_on_time() {
    // 2026-12-01 09:00 UTC
    let clock = Arc::new(ManualClock::at(1_796_115_600_000));
    let app = TestApp::spawn_at(
        leadrouter_store::testing::TestDatabase::sqlite(),
        &[],
        clock.clone(),
    )
    .await;
    let mut c = logged_in(&app).await;
    let mut other = Console::new(&app);
    for _ in 0..5 {
        other.login(EMAIL, "not the password").await;
    }
    assert_eq!(other.login(EMAIL, PASSWORD).await.status, 429);
    clock.advance((60 + 1) * 1000);
    assert_eq!(
        other.login(EMAIL, PASSWORD).await.status,
        303,
        "a minute later the right password works"
    );
    // 11 idle hours: still in; then 13 more: the session has ended.
    clock.advance(11 * 3_600_000);
    assert_eq!(c.get("/admin").await.status, 200);
    clock.advance(13 * 3_600_000);
    let r = c.get("/admin").await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/admin/login")),
        "idle too long"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_signed_with_another_key_is_not_a_session() {
    let app = TestApp::spawn(leadrouter_store::testing::TestDatabase::sqlite()).await;
    let mut c = logged_in(&app).await;
    assert_eq!(c.get("/admin").await.status, 200);
    // The real session id, signed with a key that is not the server's.
    let cookie = c.cookie.clone().unwrap();
    let (name, signed) = cookie.split_once('=').unwrap();
    let id = &signed[44..]; // the signature (base64 of 32 bytes) comes first
    c.cookie = Some(format!("{name}={}", resign(id)));
    let r = c.get("/admin").await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (303, Some("/admin/login"))
    );
    // The id alone, unsigned, is not accepted either.
    c.cookie = Some(format!("{name}={id}"));
    assert_eq!(c.get("/admin").await.status, 303);
    c.cookie = Some(cookie);
    assert_eq!(
        c.get("/admin").await.status,
        200,
        "the genuine cookie still works"
    );
    app.stop().await;
}

/// `id` signed as the cookie crate signs, with a fresh random key.
fn resign(id: &str) -> String {
    use axum_extra::extract::cookie::{Cookie, Key, SignedCookieJar};
    let jar = SignedCookieJar::new(Key::generate()).add(Cookie::new("x", id.to_string()));
    let res = axum::response::IntoResponse::into_response((jar, ()));
    let set = res
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    set.split(';')
        .next()
        .unwrap()
        .trim_start_matches("x=")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_without_a_session_goes_to_the_login() {
    let app = TestApp::spawn(leadrouter_store::testing::TestDatabase::sqlite()).await;
    let mut c = Console::new(&app);
    for path in [
        "/admin",
        "/admin/partners",
        "/admin/partners/new",
        "/admin/partners/1",
        "/admin/partners/1/edit",
        "/admin/leads",
        "/admin/leads/1",
        "/admin/leads.csv",
        "/admin/deliveries?status=failed",
        "/admin/sources",
        "/admin/sources/new",
        "/admin/sources/1",
        "/admin/markets",
        "/admin/rejected",
        "/admin/notifications",
        "/admin/analytics",
        "/admin/settings",
    ] {
        let r = c.get(path).await;
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some("/admin/login")),
            "{path}"
        );
    }
    for path in [
        "/admin/partners",
        "/admin/partners/1/pause",
        "/admin/leads/1/retry",
        "/admin/deliveries/retry",
        "/admin/users",
    ] {
        let r = c.post(path, &[]).await;
        assert_eq!(
            (r.status, r.location.as_deref()),
            (303, Some("/admin/login")),
            "POST {path}"
        );
    }
    app.stop().await;
}

both_backends! {
    async fn a_form_post_without_the_sessions_csrf_token_is_refused(db) {
        let app = TestApp::spawn(db).await;
        let mut c = logged_in(&app).await;
        let form = [("name", "Sneaky Ltd"), ("country", "germany"), ("niche", "forex"),
            ("webhook_url", "https://fxpartners.com/api/leads")];
        assert_eq!(c.post("/admin/partners", &form).await.status, 403);
        let mut wrong = form.to_vec();
        wrong.push(("_csrf", "not-the-token"));
        assert_eq!(c.post("/admin/partners", &wrong).await.status, 403);
        let (_, partners) = app.get("/api/admin/partners").await;
        assert_eq!(partners["partners"], json!([]), "nothing was created");
        // Another session's token is no good either.
        let mut second = Console::new(&app);
        second.login(EMAIL, PASSWORD).await;
        let theirs = second.csrf().await;
        let mut borrowed = form.to_vec();
        borrowed.push(("_csrf", &theirs));
        assert_eq!(c.post("/admin/partners", &borrowed).await.status, 403);
        app.stop().await;
    }
}

both_backends! {
    async fn the_admin_api_takes_a_session_and_wants_its_csrf_token_for_changes(db) {
        let app = TestApp::spawn(db).await;
        let mut c = logged_in(&app).await;
        let cookie = c.cookie.clone().unwrap();
        let csrf = c.csrf().await;
        let http = reqwest::Client::new();
        let url = format!("{}/api/admin/partners", app.base);
        let r = http.get(&url).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let body = json!({"name": "Session Partner", "country": "germany", "niche": "forex",
            "webhook_url": "https://fxpartners.com/api/leads"});
        let r = http.post(&url).header("cookie", &cookie).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 403, "no CSRF token");
        let r = http.post(&url).header("cookie", &cookie).header("x-csrf-token", &csrf).json(&body).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let r = http.get(&url).send().await.unwrap();
        assert_eq!(r.status(), 401, "neither token nor session");
        app.stop().await;
    }
}

/// The Add Partner form's fields for a partner, as an operator types them.
pub(crate) fn typed<'a>(pairs: &[(&'a str, &'a str)], csrf: &'a str) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("_csrf", csrf)];
    for (k, d) in [
        ("always_open", "1"),
        ("content_type", "json"),
        ("auth_type", "none"),
    ] {
        if !pairs.iter().any(|(p, _)| *p == k) {
            v.push((k, d));
        }
    }
    v.extend_from_slice(pairs);
    v
}

fn comparable(mut p: Value) -> Value {
    for k in [
        "id",
        "created_at",
        "updated_at",
        "api_key_prefix",
        "today",
        "success",
        "warnings",
        "api_key",
        "signing_secret",
    ] {
        p.as_object_mut().unwrap().remove(k);
    }
    p
}

both_backends! {
    async fn the_guides_partners_entered_in_the_form_come_out_as_the_api_makes_them(db) {
        let app = TestApp::spawn(db).await;
        let mut c = logged_in(&app).await;
        let csrf = c.csrf().await;
        let guide = [("name", "FX Trading Partners Ltd"), ("email", "integration@fxpartners.com"),
            ("country", "germany"), ("niche", "forex"), ("daily_limit", "50"), ("premium_ratio", "70%"),
            ("timezone", "Europe/Berlin"), ("webhook_url", "https://fxpartners.com/api/leads"),
            ("phone_format", "international"), ("required_fields", "name,email,phone,country")];
        let example1 = [("name", "German FX Solutions"), ("country", "germany"), ("niche", "forex"),
            ("webhook_url", "https://germanfx.com/webhook/leads"), ("required_fields", "name,email,phone,country"),
            ("phone_format", "international")];
        let example2 = [("name", "Recovery Specialists Spain"), ("country", "spain"), ("niche", "recovery"),
            ("webhook_url", "https://recovery-es.com/api/new-lead"),
            ("required_fields", "name,lastname,email,phone,country,amount_lost,fraud_type"), ("phone_format", "local")];
        for (form, api) in [
            (&guide[..], json!({"name": "FX Trading Partners Ltd", "email": "integration@fxpartners.com",
                "country": "germany", "niche": "forex", "daily_limit": 50, "premium_ratio": "70%",
                "timezone": "Europe/Berlin", "webhook_url": "https://fxpartners.com/api/leads",
                "phone_format": "International (+1234567890)", "required_fields": "name,email,phone,country"})),
            (&example1[..], json!({"name": "German FX Solutions", "country": "germany", "niche": "forex",
                "webhook_url": "https://germanfx.com/webhook/leads", "required_fields": "name,email,phone,country",
                "phone_format": "International"})),
            (&example2[..], json!({"name": "Recovery Specialists Spain", "country": "spain", "niche": "recovery",
                "webhook_url": "https://recovery-es.com/api/new-lead",
                "required_fields": "name,lastname,email,phone,country,amount_lost,fraud_type", "phone_format": "Local"})),
        ] {
            let r = c.post("/admin/partners", &typed(form, &csrf)).await;
            assert_eq!(r.status, 303, "{}", r.body);
            let path = r.location.unwrap();
            let page = c.get(&path).await;
            assert!(page.body.contains("pk_") && page.body.contains("whsec_"), "key and secret shown once");
            let again = c.get(&path).await;
            assert!(!again.body.contains("whsec_") && again.text(".secret").is_none(), "and only once");
            let id: i64 = path.rsplit('/').next().unwrap().parse().unwrap();
            let (_, from_form) = app.get(&format!("/api/admin/partners/{id}")).await;
            let (status, from_api) = app.post("/api/admin/partners", api).await;
            assert_eq!(status, 201, "{from_api}");
            assert_eq!(comparable(from_form), comparable(from_api));
        }
        let list = c.get("/admin/partners").await;
        assert!(list.body.contains("FX Trading Partners Ltd"));
        let row = list.html().select(&scraper::Selector::parse("tbody tr").unwrap())
            .map(|r| r.text().collect::<String>()).find(|t| t.contains("FX Trading Partners Ltd")).unwrap();
        assert!(row.contains("0 / 50"), "{row}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_refused_partner_form_comes_back_with_the_message_beside_the_field(db) {
        let app = TestApp::spawn(db).await;
        let mut c = logged_in(&app).await;
        let csrf = c.csrf().await;
        let r = c.post("/admin/partners", &typed(&[("name", "FX Trading Partners Ltd"), ("country", "germany"),
            ("niche", "forex"), ("daily_limit", "50"), ("premium_ratio", "70%"),
            ("webhook_url", "http://fxpartners.com/api/leads"), ("required_fields", "name,email,phone,country"),
            ("map_from", "name"), ("map_to", "full_name")], &csrf)).await;
        assert_eq!(r.status, 422);
        assert_eq!(r.error_beside("Webhook URL").as_deref(), Some("must use https"));
        assert_eq!(r.value_of("Partner Name").as_deref(), Some("FX Trading Partners Ltd"));
        assert_eq!(r.value_of("Webhook URL").as_deref(), Some("http://fxpartners.com/api/leads"));
        assert_eq!(r.value_of("Premium Ratio").as_deref(), Some("70%"));
        assert_eq!(r.attr("input[name=map_to]", "value").as_deref(), Some("full_name"), "key/value rows kept");
        let (_, partners) = app.get("/api/admin/partners").await;
        assert_eq!(partners["partners"], json!([]));
        app.stop().await;
    }
}
