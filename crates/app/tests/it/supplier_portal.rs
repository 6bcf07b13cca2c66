//! The supplier portal (API.md "Suppliers"): an operator invites a source's user, the
//! link sets a password, and the user sees only its own source's leads — what became of
//! them and what they earn, never a partner — its days' counts against its cap, its
//! integration with its postbacks, and can try a submission that is neither stored nor
//! counted. Another source's lead is 404 and found by no search; logins are throttled, posts
//! need the session's CSRF token, the portal's session opens nothing else, and a removed
//! user's session ends. On both backends.

use crate::delivery::{delivering, lead_in, partner};
use crate::portal::rows;
use crate::support::console::Console;
use crate::support::eventually;
use crate::support::receiver::{Receiver, Reply};
use crate::support::TestApp;
use serde_json::{json, Value};

/// Invites `email` to source `source`'s portal over the admin API and sets its password
/// through the link the operator was given (no mail service here).
pub(crate) async fn supplier_logged_in(app: &TestApp, source: i64, email: &str) -> (Console, i64) {
    let (s, u) = app
        .post(
            &format!("/api/admin/sources/{source}/users"),
            json!({"email": email}),
        )
        .await;
    assert_eq!(s, 201, "{u}");
    assert_eq!(u["user"]["source_id"], source, "{u}");
    assert_eq!(u["user"]["status"], "invited", "{u}");
    let url = u["invite_url"]
        .as_str()
        .expect("the link, without a mail service");
    let link = url[url.find("/supplier/accept/").expect("a supplier link")..].to_string();
    let mut c = Console::new(app);
    assert_eq!(c.get(&link).await.status, 200);
    let page = c
        .post(
            &link,
            &[
                ("password", "supplier password 1"),
                ("confirm", "supplier password 1"),
            ],
        )
        .await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/supplier"))
    );
    assert_eq!(
        Console::new(app).get(&link).await.status,
        404,
        "the link works once"
    );
    (c, u["user"]["id"].as_i64().unwrap())
}

both_backends! {
    async fn a_supplier_user_sees_its_own_leads_earnings_and_postbacks_and_nothing_of_anyone_else(db) {
        let app = delivering(db, &[("LEADROUTER_TIMEZONE", "Europe/Berlin")]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(200));
        let tracker = Receiver::start("127.0.0.1").await;
        tracker.otherwise(Reply::Status(200));
        partner(&app, "Berlin Buyers GmbH", &rx.url("partner.test", "/in"), json!({})).await;
        // A buyer in Italy that refuses every lead: the supplier's Italian lead fails.
        let picky = Receiver::start("127.0.0.1").await;
        picky.otherwise(Reply::Status(400));
        partner(&app, "Roma Leads", &picky.url("second.test", "/it"), json!({"country": "italy"})).await;
        let (s, acme) = app.post("/api/admin/sources", json!({"name": "Acme Media", "kind": "webhook",
            "cost_per_lead": "12.50", "daily_cap": 5, "default_niche": "forex",
            "postback_url": format!("{}?l={{lead_id}}&e={{event}}", tracker.url("partner.test", "/pb"))})).await;
        assert_eq!(s, 201, "{acme}");
        let (acme_id, acme_token) = (acme["id"].as_i64().unwrap(), acme["token"].as_str().unwrap().to_string());
        let (other_id, other_token) = app.source(json!({"name": "Other Affiliate", "kind": "webhook"})).await;
        let send = |token: String, body: Value| {
            let app = &app;
            async move {
                let (s, r) = app.send_lead(&token, body).await;
                assert_eq!(s, 202, "{r}");
                r["lead_id"].as_i64().unwrap()
            }
        };
        let mine = send(acme_token.clone(), json!({"email": "a1@example.de", "country": "de", "external_id": "acme-1"})).await;
        let mine2 = send(acme_token.clone(), json!({"email": "a2@example.de", "country": "de", "external_id": "acme-2"})).await;
        let rejected = send(acme_token.clone(), json!({"email": "a3@example.it", "country": "it", "niche": "forex"})).await;
        let theirs = send(other_token.clone(), json!({"email": "o1@example.de", "country": "de", "niche": "forex", "external_id": "other-1"})).await;
        for id in [mine, mine2, theirs] {
            lead_in(&app, &json!(id), "delivered").await;
        }
        lead_in(&app, &json!(rejected), "failed").await;
        eventually("the postbacks sent", || async {
            app.run_until_idle().await;
            let (_, l) = app.get(&format!("/api/admin/sources/{acme_id}/postbacks")).await;
            let rows = l["postbacks"].as_array().cloned().unwrap_or_default();
            (rows.len() == 3 && rows.iter().all(|p| p["status"] == "sent")).then_some(())
        }).await;

        let (mut me, my_user) = supplier_logged_in(&app, acme_id, "feeds@acme.example").await;
        // Leads: its three, what became of them, what it earned; none of the other source's.
        let list = me.get("/supplier").await;
        assert_eq!(list.status, 200);
        let leads = rows(&list);
        let row = |id: i64| leads.iter().find(|r| r.starts_with(&format!("#{id}|"))).cloned();
        let first = row(mine).unwrap_or_else(|| panic!("{leads:?}"));
        assert!(first.contains("acme-1") && first.contains("delivered") && first.ends_with("12.50"), "{first}");
        let failed = row(rejected).unwrap_or_else(|| panic!("{leads:?}"));
        assert!(failed.contains("rejected") && failed.ends_with("0.00"), "{failed}");
        assert!(row(theirs).is_none() && !list.body.contains("other-1") && !list.body.contains("o1@example.de"), "{leads:?}");
        // Today: 3 of a cap of 5; the fortnight's total earned 25.00.
        let today = list.text(".cards").unwrap_or_default();
        assert!(today.contains("3 / 5") && today.contains("25.00"), "{today}");
        let total = list.text("tfoot").unwrap_or_default();
        assert!(total.contains("Total") && total.contains('3') && total.contains("25.00"), "{total}");
        // Never a partner's name, on any page.
        for path in ["/supplier".to_string(), format!("/supplier/leads/{mine}"), "/supplier/integration".into(), "/supplier/test".into()] {
            let p = me.get(&path).await;
            assert_eq!(p.status, 200, "{path}");
            assert!(!p.body.contains("Berlin Buyers") && !p.body.contains("Roma Leads"), "{path} names a partner");
        }
        // A lead's page: its postbacks with their status.
        let page = me.get(&format!("/supplier/leads/{mine}")).await;
        let pb = rows(&page);
        assert!(pb.iter().any(|r| r.starts_with("delivered|sent|1|200")), "{pb:?}");
        // Another source's lead: 404, and no search finds it.
        let other = me.get(&format!("/supplier/leads/{theirs}")).await;
        assert_eq!(other.status, 404);
        assert!(other.body.contains("You sent no lead with this id"));
        for q in [theirs.to_string(), "other-1".into()] {
            let found = me.get(&format!("/supplier?q={q}")).await;
            assert!(found.body.contains("No lead of yours matches"), "{q}");
        }
        let by_own_id = me.get("/supplier?q=acme-2").await;
        assert_eq!(rows(&by_own_id).iter().filter(|r| r.starts_with('#')).count(), 1);
        assert!(by_own_id.body.contains(&format!("#{mine2}")));
        // Integration: where to post, the fields, an example, the postbacks.
        let integ = me.get("/supplier/integration").await;
        let prefix = app.get(&format!("/api/admin/sources/{acme_id}")).await.1["token_prefix"].as_str().unwrap().to_string();
        for want in ["/api/webhook/", prefix.as_str(), "external_id", "curl -X POST", "/pb?l={lead_id}", "e={event}", "webhook-signature"] {
            assert!(integ.body.contains(want), "integration page lacks {want}");
        }
        assert_eq!(rows(&integ).iter().filter(|r| r.contains("|sent|")).count(), 3);

        // A test submission: read as a real one, answered, neither stored nor counted.
        let csrf = me.get("/supplier/test").await.csrf();
        let refused = me.post("/supplier/test", &[("body", "{}")]).await;
        assert_eq!(refused.status, 403, "a post without the session's CSRF token");
        let good = me.post("/supplier/test", &[("_csrf", &csrf), ("body", r#"{"email": "Try@Example.DE", "country": "Deutschland", "first_name": "Tess"}"#)]).await;
        assert_eq!(good.status, 200, "{}", good.body);
        let said = good.text("[role=status]").unwrap_or_default();
        assert!(said.contains("Accepted") && said.contains("A buyer would take this lead now") && said.contains("try@example.de") && said.contains("germany"), "{said}");
        let bad = me.post("/supplier/test", &[("_csrf", &csrf), ("body", r#"{"email": "not-an-address", "country": "de"}"#)]).await;
        assert_eq!(bad.status, 422);
        let why = bad.text("[role=alert]").unwrap_or_default();
        assert!(why.contains("email") && why.contains("Not accepted"), "{why}");
        let (_, all) = app.get("/api/admin/leads?limit=100").await;
        assert_eq!(all["leads"].as_array().map(Vec::len), Some(4), "no lead stored by a test");
        assert!(me.get("/supplier").await.text(".cards").unwrap_or_default().contains("3 / 5"), "not counted against the cap");

        // Its session opens neither the partner portal nor the console.
        assert_eq!(me.get("/portal").await.location.as_deref(), Some("/portal/login"));
        assert_eq!(me.get("/admin").await.status, 303);
        // One address, one supplier user; a second source's invitation is refused.
        let (s, _) = app.post(&format!("/api/admin/sources/{other_id}/users"), json!({"email": "Feeds@Acme.example"})).await;
        assert_eq!(s, 409);
        let (s, _) = app.post("/api/admin/sources/999999/users", json!({"email": "x@example.com"})).await;
        assert_eq!(s, 404);
        // Removed: its session stops working at once.
        let r = app.admin(reqwest::Method::DELETE, &format!("/api/admin/sources/{acme_id}/users/{my_user}"), None).await;
        assert_eq!(r.0, 200, "{:?}", r.1);
        let gone = me.get("/supplier").await;
        assert_eq!((gone.status, gone.location.as_deref()), (303, Some("/supplier/login")));
        app.stop().await;
    }
}

both_backends! {
    async fn supplier_logins_are_throttled_and_apart_from_the_partner_portals(db) {
        let app = TestApp::spawn(db).await;
        let (source, _) = app.source(json!({"name": "Acme Media", "kind": "webhook"})).await;
        let (_me, _) = supplier_logged_in(&app, source, "feeds@acme.example").await;
        // The supplier's address and password open nothing at the partner portal.
        let mut c = Console::new(&app);
        let p = c.post("/portal/login", &[("email", "feeds@acme.example"), ("password", "supplier password 1")]).await;
        assert!(p.body.contains("Invalid email or password"), "{}", p.body);
        let mut c = Console::new(&app);
        for _ in 0..5 {
            let p = c.post("/supplier/login", &[("email", "feeds@acme.example"), ("password", "wrong")]).await;
            assert!(p.body.contains("Invalid email or password"));
        }
        let locked = c.post("/supplier/login", &[("email", "feeds@acme.example"), ("password", "supplier password 1")]).await;
        assert_eq!(locked.status, 429, "even the right password, after five failures");
        let (_, users) = app.get(&format!("/api/admin/sources/{source}/users")).await;
        assert_eq!(users["users"][0]["status"], json!("active"), "{users}");
        assert_eq!(users["users"][0]["source_id"], json!(source), "{users}");
        app.stop().await;
    }
}
