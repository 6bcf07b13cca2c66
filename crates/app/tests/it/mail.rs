//! E-mail through the outbox and a fake Postmark (real HTTPS on loopback): the welcome mail,
//! one "failing" mail per streak, "paused", Postmark's retries, refusals and inactive
//! recipients, a crash between queueing and sending, no token at all, and the daily
//! summary at 08:00 partner-local across a DST change. On both backends.

use crate::delivery::delivering;
use crate::support::fake_postmark::FakePostmark;
use crate::support::receiver::{tls, Receiver, Reply};
use crate::support::{eventually, TestApp};
use leadrouter_core::clock::ManualClock;
use leadrouter_store::testing::TestDatabase;
use serde_json::{json, Value};
use std::sync::Arc;

const PARTNER_EMAIL: &str = "integration@fxpartners.com";
const OPS: &str = "ops@leadbiz.de";

async fn mailing(db: TestDatabase, pm: &FakePostmark, extra: &[(&str, &str)]) -> TestApp {
    let env = pm.env();
    let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    vars.push(("LEADROUTER_ALERT_EMAILS", OPS));
    vars.extend_from_slice(extra);
    delivering(db, &vars).await
}

/// How many outbox entries these mails at Postmark were (a re-sent one counts once).
fn distinct_notifications(mails: &[Value]) -> usize {
    let ids: std::collections::BTreeSet<String> = mails
        .iter()
        .map(|m| m["Metadata"]["notification_id"].to_string())
        .collect();
    ids.len()
}

async fn partner(app: &TestApp, url: &str, extra: Value) -> i64 {
    let mut body = json!({"name": "FX Trading Partners Ltd", "email": PARTNER_EMAIL, "country": "germany",
        "niche": "forex", "daily_limit": 50, "premium_ratio": "70%", "webhook_url": url,
        "phone_format": "international", "required_fields": "name,email,phone,country"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (status, p) = app.post("/api/admin/partners", body).await;
    assert_eq!(status, 201, "{p}");
    p["id"].as_i64().unwrap()
}

async fn notifications(app: &TestApp, kind: &str) -> Vec<Value> {
    let (status, n) = app
        .get(&format!("/api/admin/notifications?kind={kind}"))
        .await;
    assert_eq!(status, 200, "{n}");
    n["notifications"].as_array().unwrap().clone()
}

both_backends! {
    async fn a_new_partner_gets_one_welcome_mail_with_everything_but_its_secrets(db) {
        let pm = FakePostmark::start().await;
        let app = mailing(db, &pm, &[]).await;
        let id = partner(&app, "https://fxpartners.com/api/leads", json!({"field_mapping": {"name": "full_name"}})).await;
        app.run_until_idle().await;
        let requests = pm.requests();
        assert_eq!(requests.len(), 1, "exactly one mail");
        let r = &requests[0];
        assert_eq!(r.headers["x-postmark-server-token"], "test-server-token");
        assert_eq!(r.headers["accept"], "application/json");
        assert!(r.headers["content-type"].to_str().unwrap().starts_with("application/json"));
        let m = &r.body;
        assert_eq!((m["From"].as_str(), m["To"].as_str(), m["Tag"].as_str(), m["MessageStream"].as_str()),
            (Some("leads@leadbiz.de"), Some(PARTNER_EMAIL), Some("partner_welcome"), Some("outbound")));
        let listed = notifications(&app, "partner_welcome").await;
        assert_eq!(listed.len(), 1);
        assert_eq!(m["Metadata"]["notification_id"], listed[0]["id"].to_string());
        assert_eq!((listed[0]["status"].as_str(), listed[0]["attempts"].as_i64()), (Some("sent"), Some(1)));
        let text = m["TextBody"].as_str().unwrap();
        let html = m["HtmlBody"].as_str().unwrap();
        assert!(text.contains("https://fxpartners.com/api/leads"), "{text}");
        assert!(text.contains(&format!("/api/conversion/{id}")), "{text}");
        assert!(text.contains("\"full_name\": \"John Smith\"") && text.contains("+491234567890"), "the example in its own format: {text}");
        assert!(text.contains("webhook-signature") && text.contains("standardwebhooks"), "{text}");
        for body in [text, html] {
            assert!(!body.contains("pk_") && !body.contains("whsec_"), "no secret in a mail: {body}");
        }
        // Changing the partner sends nothing more.
        assert_eq!(app.patch(&format!("/api/admin/partners/{id}"), json!({"daily_limit": 60})).await.0, 200);
        app.run_until_idle().await;
        assert_eq!(pm.requests().len(), 1);
        app.stop().await;
    }
}

both_backends! {
    async fn a_failing_partner_gets_one_failing_mail_per_streak_and_a_paused_mail(db) {
        let pm = FakePostmark::start().await;
        let app = mailing(db, &pm, &[("LEADROUTER_PAUSE_AFTER_FAILURES", "8")]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Body(500, "upstream database down".into()));
        let id = partner(&app, &rx.url("partner.test", "/api/leads"), json!({})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        for i in 0..2 {
            let (s, _) = app.send_lead(&token, json!({"name": "John Smith", "email": format!("j{i}@email.com"),
                "phone": format!("+49151123456{i}"), "country": "germany", "niche": "forex"})).await;
            assert_eq!(s, 202);
        }
        eventually("paused after 8 failures in a row", || async {
            (app.get(&format!("/api/admin/partners/{id}")).await.1["status"] == "paused").then_some(())
        }).await;
        app.run_until_idle().await;
        assert!(rx.requests().len() >= 8, "{} attempts", rx.requests().len());
        // One mail (one outbox entry) however many attempts failed. (A send that outlives
        // the client's timeout on a loaded machine is sent again: at least once, the same
        // notification, which the distinct ids count as one.)
        let failing = pm.tagged("partner_failing");
        assert_eq!(distinct_notifications(&failing), 1, "one mail however many attempts failed");
        assert_eq!((failing[0]["To"].as_str(), failing[0]["Bcc"].as_str()), (Some(PARTNER_EMAIL), Some(OPS)));
        let text = failing[0]["TextBody"].as_str().unwrap();
        assert!(text.contains("HTTP 500") && text.contains("upstream database down"), "{text}");
        // The operators' copy is listed with the mail.
        let (_, listed) = app.get("/api/admin/notifications?kind=partner_failing").await;
        assert_eq!(listed["notifications"][0]["copy_to"], OPS, "{listed}");
        let mut c = crate::support::console::Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = c.get("/admin/notifications").await;
        assert!(page.body.contains(&format!("copy to {OPS}")), "{}", page.body);
        let paused = pm.tagged("partner_paused");
        assert_eq!(distinct_notifications(&paused), 1, "one paused mail (sent again only if Postmark's answer came late)");
        // The streak that paused it: 8, or one more when two failures were counted at once.
        let said = paused[0]["TextBody"].as_str().unwrap();
        let n: i64 = said.split(" failed deliveries in a row").next().unwrap()
            .rsplit(' ').next().unwrap().parse().unwrap_or_else(|_| panic!("{said}"));
        assert!((8..=9).contains(&n), "{said}");
        // Resumed and failing again: a new streak, a new mail.
        assert_eq!(app.post(&format!("/api/admin/partners/{id}/resume"), json!({})).await.0, 200);
        app.send_lead(&token, json!({"name": "Ann Lee", "email": "ann@email.com", "phone": "+491234567891",
            "country": "germany", "niche": "forex"})).await;
        eventually("a second streak", || async { (distinct_notifications(&pm.tagged("partner_failing")) == 2).then_some(()) }).await;
        app.stop().await;
    }
}

both_backends! {
    async fn postmark_failing_twice_then_answering_sends_the_mail_once_after_three_tries(db) {
        let pm = FakePostmark::start().await;
        pm.script(vec![(500, json!({"ErrorCode": 500, "Message": "oops"})), (503, json!({}))]);
        let app = mailing(db, &pm, &[]).await;
        partner(&app, "https://fxpartners.com/api/leads", json!({})).await;
        let sent = eventually("sent", || async {
            let n = notifications(&app, "partner_welcome").await;
            (n[0]["status"] == "sent").then_some(n)
        }).await;
        assert_eq!(sent[0]["attempts"], 3);
        assert_eq!(pm.requests().len(), 3);
        app.stop().await;
    }
}

both_backends! {
    async fn a_refused_mail_fails_with_postmarks_code_and_an_inactive_address_is_suppressed(db) {
        let pm = FakePostmark::start().await;
        pm.script(vec![(422, json!({"ErrorCode": 300, "Message": "Invalid 'To' address: 'x'."}))]);
        let app = mailing(db, &pm, &[]).await;
        partner(&app, "https://fxpartners.com/api/leads", json!({})).await;
        app.run_until_idle().await;
        let n = notifications(&app, "partner_welcome").await;
        assert_eq!((n[0]["status"].as_str(), n[0]["error_code"].as_i64()), (Some("failed"), Some(300)));
        let error = n[0]["last_error"].as_str().unwrap();
        assert!(error.contains("Invalid 'To' address") && error.contains("ErrorCode 300"), "the code is kept in the error: {error}");
        assert_eq!(pm.requests().len(), 1, "not retried");

        // 406: the address is inactive; later mail to it is not even tried.
        pm.script(vec![(406, json!({"ErrorCode": 406, "Message": "You tried to send to a recipient that has been marked as inactive."}))]);
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Bounced", "email": "gone@partner.example",
            "country": "germany", "niche": "forex", "webhook_url": "https://germanfx.com/webhook/leads"})).await;
        assert_eq!(s, 201);
        app.run_until_idle().await;
        assert_eq!(pm.requests().len(), 2);
        assert_eq!(app.post(&format!("/api/admin/partners/{}/pause", p["id"]), json!({})).await.0, 200);
        app.run_until_idle().await;
        assert_eq!(pm.requests().len(), 2, "suppressed: no request");
        let paused = notifications(&app, "partner_paused").await;
        assert_eq!(paused[0]["status"], "failed");
        assert!(paused[0]["last_error"].as_str().unwrap().contains("suppressed"));
        app.stop().await;
    }
}

both_backends! {
    async fn without_a_postmark_token_mail_is_recorded_and_nothing_is_sent(db) {
        let pm = FakePostmark::start().await;
        let url = pm.base.clone();
        let app = delivering(db, &[("POSTMARK_API_URL", url.as_str()), ("LEADROUTER_ALERT_EMAILS", OPS)]).await;
        let id = partner(&app, "https://fxpartners.com/api/leads", json!({})).await;
        assert_eq!(app.post(&format!("/api/admin/partners/{id}/pause"), json!({})).await.0, 200);
        app.run_until_idle().await;
        for kind in ["partner_welcome", "partner_paused"] {
            let n = notifications(&app, kind).await;
            assert_eq!((n.len(), n[0]["status"].as_str()), (1, Some("recorded")), "{kind}");
        }
        assert!(pm.requests().is_empty(), "no HTTP request at all");
        // The console shows them.
        let mut c = crate::support::console::Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = c.get("/admin/notifications").await;
        let rows: Vec<String> = page.html().select(&scraper::Selector::parse("tbody tr").unwrap())
            .map(|r| r.text().collect::<String>()).collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows.iter().all(|r| r.contains("recorded")) && rows.iter().any(|r| r.contains("partner_welcome")), "{rows:?}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_mail_queued_before_a_crash_is_sent_once_after_the_restart(db) {
        use crate::support::process::{run, Server};
        let url = db.url.expose().to_string();
        let dir = tempfile::tempdir().unwrap();
        let ca = tls().ca_file.to_str().unwrap().to_string();
        // Postmark cannot be reached at first: the mail is queued, tried, and waits.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let unreachable = format!("https://{closed}");
        let pm = FakePostmark::start().await;
        let env = |postmark: &str| -> Vec<(String, String)> {
            vec![("DATABASE_URL".into(), url.clone()), ("LEADROUTER_EXTRA_ROOT_CERTS".into(), ca.clone()),
                 ("POSTMARK_SERVER_TOKEN".into(), "test-server-token".into()),
                 ("POSTMARK_FROM_EMAIL".into(), "leads@leadbiz.de".into()),
                 ("POSTMARK_API_URL".into(), postmark.into()), ("LEADROUTER_RETRY_SCHEDULE".into(), "200ms,200ms,200ms,200ms,200ms,200ms,200ms,200ms".into())]
        };
        let as_refs = |e: &Vec<(String, String)>| -> Vec<(String, String)> { e.clone() };
        let first = as_refs(&env(&unreachable));
        let first: Vec<(&str, &str)> = first.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let admin = String::from_utf8(run(&["admin", "create-token", "--name", "t"], &first).stdout).unwrap().trim().to_string();
        let mut server = Server::start(&first, dir.path());
        let r = reqwest::Client::new().post(format!("{}/api/admin/partners", server.base)).bearer_auth(&admin)
            .json(&json!({"name": "P", "email": PARTNER_EMAIL, "country": "germany", "niche": "forex",
                "webhook_url": "https://fxpartners.com/api/leads"})).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let store = leadrouter_store::Store::connect(&db.url).await.unwrap();
        eventually("queued and tried", || async {
            let n = store.list_notifications(Some("partner_welcome"), None, 5).await.unwrap();
            (n.len() == 1 && n[0].status == leadrouter_core::status::MailStatus::Queued && n[0].attempts >= 1).then_some(())
        }).await;
        server.kill();
        let second = env(&pm.base);
        let second: Vec<(&str, &str)> = second.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let server = Server::start(&second, dir.path());
        eventually("sent after the restart", || async {
            let n = store.list_notifications(Some("partner_welcome"), None, 5).await.unwrap();
            (n[0].status == leadrouter_core::status::MailStatus::Sent).then_some(())
        }).await;
        assert_eq!(pm.tagged("partner_welcome").len(), 1, "once");
        let (code, _) = server.terminate();
        assert_eq!(code, Some(0));
        store.close().await;
    }
}

both_backends! {
    async fn the_daily_summary_goes_out_at_eight_in_the_partners_morning_across_a_dst_change(db) {
        let pm = FakePostmark::start().await;
        let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        // Saturday 24 October 2026, 07:59 in Berlin (summer time, UTC+2).
        let clock = Arc::new(ManualClock::at(at("2026-10-24T05:59:00Z")));
        let env = pm.env();
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.push(("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()));
        let app = TestApp::spawn_at(db, &vars, clock.clone()).await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Berlin FX", "email": PARTNER_EMAIL,
            "country": "germany", "niche": "forex", "webhook_url": "https://fxpartners.com/api/leads",
            "timezone": "Europe/Berlin", "daily_summary": true})).await;
        assert_eq!(s, 201, "{p}");
        let (_, quiet) = app.post("/api/admin/partners", json!({"name": "No summary", "email": "quiet@fx.example",
            "country": "germany", "niche": "forex", "webhook_url": "https://germanfx.com/webhook/leads"})).await;
        assert!(quiet["id"].is_i64());
        app.run_until_idle().await;
        assert!(pm.tagged("daily_summary").is_empty(), "not before 08:00");
        clock.set(at("2026-10-24T06:00:00Z")); // 08:00 in Berlin
        app.run_until_idle().await;
        let summaries = pm.tagged("daily_summary");
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0]["To"], PARTNER_EMAIL, "only the partner that wants it");
        assert!(summaries[0]["Subject"].as_str().unwrap().contains("2026-10-23"));
        clock.set(at("2026-10-24T15:00:00Z"));
        app.run_until_idle().await;
        assert_eq!(pm.tagged("daily_summary").len(), 1, "once a day");
        // The clocks went back on the 25th: on Monday 08:00 in Berlin is 07:00 UTC.
        clock.set(at("2026-10-26T06:30:00Z"));
        app.run_until_idle().await;
        let before = pm.tagged("daily_summary").iter().filter(|m| m["Subject"].as_str().unwrap().contains("2026-10-25")).count();
        assert_eq!(before, 0, "07:30 in Berlin: not yet");
        clock.set(at("2026-10-26T07:00:00Z"));
        app.run_until_idle().await;
        let monday = pm.tagged("daily_summary").into_iter().filter(|m| m["Subject"].as_str().unwrap().contains("2026-10-25")).count();
        assert_eq!(monday, 1);
        app.stop().await;
    }
}

both_backends! {
    async fn operators_hear_once_a_day_of_a_full_partner_and_of_a_held_backlog(db) {
        let pm = FakePostmark::start().await;
        let env = pm.env();
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let mut vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        vars.extend([("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()), ("LEADROUTER_ALERT_EMAILS", OPS)]);
        let app = TestApp::spawn_with(db, &vars).await;
        let (s, p) = app.post("/api/admin/partners", json!({"name": "Tiny", "email": PARTNER_EMAIL, "country": "germany",
            "niche": "forex", "daily_limit": 1, "premium_ratio": 0, "webhook_url": "https://fxpartners.com/api/leads"})).await;
        assert_eq!(s, 201, "{p}");
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        for i in 0..101 {
            assert_eq!(app.send_lead(&token, json!({"email": format!("h{i}@held.example"), "country": "de", "niche": "forex"})).await.0, 202);
        }
        // Routed first; the alerts job then looks (it looks every minute; a run until idle
        // runs it once at its start).
        app.run_until_idle().await;
        app.run_until_idle().await;
        let full = pm.tagged("daily_limit_reached");
        assert_eq!(full.len(), 1);
        assert_eq!(full[0]["To"], OPS);
        assert!(full[0]["Subject"].as_str().unwrap().contains("Tiny reached its daily limit (1/1)"));
        let backlog = pm.tagged("held_backlog");
        assert_eq!(backlog.len(), 1, "100 held leads");
        assert!(backlog[0]["TextBody"].as_str().unwrap().contains("100 leads are held"));
        for kind in ["daily_limit_reached", "held_backlog"] {
            assert!(!pm.tagged(kind)[0]["HtmlBody"].as_str().unwrap().is_empty(), "{kind} has an HTML body");
        }
        // Looking again the same day sends nothing new.
        assert_eq!(app.send_lead(&token, json!({"email": "late@held.example", "country": "de", "niche": "forex"})).await.0, 202);
        app.run_until_idle().await;
        assert_eq!((pm.tagged("daily_limit_reached").len(), pm.tagged("held_backlog").len()), (1, 1));
        app.stop().await;
    }
}
