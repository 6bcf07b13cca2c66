//! The partner portal: an operator invites a partner user, the invitation's link sets a
//! password once, the user logs in (throttled, CSRF-checked) and sees only its partner's
//! leads with every attempt and the body exactly as sent, returns a lead (the operator's
//! approval gives the slot back), sees conversions, sends a test lead; another partner's
//! lead is 404 and absent from lists and search; a removed user's session stops working.
//! On both backends.

use crate::support::console::{Console, Page};
use crate::support::receiver::{tls, Receiver};
use crate::support::TestApp;
use serde_json::{json, Value};

pub(crate) struct Fixture {
    pub app: TestApp,
    pub rx: Receiver,
    pub mine: i64,
    pub theirs: i64,
    pub my_lead: i64,
    pub their_lead: i64,
}

/// Two partners (Berlin, Vienna), each delivered one lead.
pub(crate) async fn fixture(db: leadrouter_store::testing::TestDatabase) -> Fixture {
    let ca = tls().ca_file.to_str().unwrap().to_string();
    let app = TestApp::spawn_with(
        db,
        &[
            ("LEADROUTER_DELIVERY", "on"),
            ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"),
        ],
    )
    .await;
    let rx = Receiver::start("127.0.0.1").await;
    let mut ids = Vec::new();
    for (name, country) in [("Berlin Buyers", "germany"), ("Vienna Buyers", "austria")] {
        let (s, p) = app
            .post(
                "/api/admin/partners",
                json!({"name": name, "country": country, "niche": "forex",
            "webhook_url": rx.url("partner.test", "/in"), "timezone": "Europe/Berlin"}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        ids.push(p["id"].as_i64().unwrap());
    }
    let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
    let mut leads = Vec::new();
    for (email, country) in [("anna@example.de", "de"), ("otto@example.at", "at")] {
        let (s, r) = app
            .send_lead(
                &token,
                json!({"email": email, "first_name": "Anna", "country": country, "niche": "forex"}),
            )
            .await;
        assert_eq!(s, 202, "{r}");
        leads.push(r["lead_id"].as_i64().unwrap());
    }
    app.run_until_idle().await;
    Fixture {
        app,
        rx,
        mine: ids[0],
        theirs: ids[1],
        my_lead: leads[0],
        their_lead: leads[1],
    }
}

/// The path of an invitation link answered to the operator who invited (no mail service
/// here, so the operator hands it over).
pub(crate) fn invitation_path(answer: &serde_json::Value) -> String {
    let url = answer["invite_url"]
        .as_str()
        .unwrap_or_else(|| panic!("an invite_url without a mail service: {answer}"));
    let start = url.find("/portal/accept/").expect("a link");
    url[start..].to_string()
}

pub(crate) async fn logged_in(app: &TestApp, partner: i64, email: &str) -> (Console, i64) {
    let (s, u) = app
        .post(
            &format!("/api/admin/partners/{partner}/users"),
            json!({"email": email}),
        )
        .await;
    assert_eq!(s, 201, "{u}");
    let link = invitation_path(&u);
    let mut c = Console::new(app);
    assert_eq!(c.get(&link).await.status, 200);
    let page = c
        .post(&link, &[("password", "short"), ("confirm", "other")])
        .await;
    assert_eq!(page.status, 422, "a short, unconfirmed password is refused");
    let page = c
        .post(
            &link,
            &[
                ("password", "partner portal password"),
                ("confirm", "partner portal password"),
            ],
        )
        .await;
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/portal"))
    );
    assert_eq!(
        Console::new(app).get(&link).await.status,
        404,
        "the link works once"
    );
    (c, u["user"]["id"].as_i64().unwrap())
}

pub(crate) fn rows(page: &Page) -> Vec<String> {
    let row = scraper::Selector::parse("tbody tr").unwrap();
    page.html()
        .select(&row)
        .map(|r| r.text().collect::<Vec<_>>().join("|"))
        .collect()
}

both_backends! {
    async fn a_partner_user_sees_only_its_own_leads_and_returns_one(db) {
        let f = fixture(db).await;
        let app = &f.app;
        let (mut me, my_user) = logged_in(app, f.mine, "buyer@berlin.example").await;
        // Its delivered lead with the attempt; the other partner's lead nowhere.
        let list = me.get("/portal").await;
        assert_eq!(list.status, 200, "{}", list.body);
        let listed = rows(&list);
        assert!(listed.iter().any(|r| r.contains(&format!("#{}", f.my_lead)) && r.contains("delivered")), "{listed:?}");
        assert!(!list.body.contains("otto@example.at") && !list.body.contains(&format!("#{}", f.their_lead)));
        for q in [f.their_lead.to_string(), "otto@example.at".into()] {
            assert!(rows(&me.get(&format!("/portal?q={q}")).await).is_empty(), "search {q}");
        }
        assert_eq!(rows(&me.get(&format!("/portal?q={}", f.my_lead)).await).len(), 1);
        let theirs = me.get(&format!("/portal/leads/{}", f.their_lead)).await;
        assert_eq!(theirs.status, 404);
        // A page in the portal's chrome, with the way back to the partner's own leads.
        assert_eq!(theirs.text("h1").as_deref(), Some("No such lead"), "{}", theirs.body);
        assert_eq!(theirs.attr("p.empty a", "href").as_deref(), Some("/portal"));
        let nowhere = me.get("/portal/leads/not-a-number").await;
        assert_eq!(nowhere.status, 404, "{}", nowhere.body);
        assert!(nowhere.body.contains("href=\"/portal\"") && !nowhere.body.contains("/admin\""), "{}", nowhere.body);
        let page = me.get(&format!("/portal/leads/{}", f.my_lead)).await;
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Attempt 1") && page.body.contains("HTTP 200"), "{}", page.body);
        let sent: Value = serde_json::from_str(&page.text("pre.payload").expect("the body as sent")).unwrap();
        assert_eq!((sent["lead_id"].as_str(), sent["email"].as_str()), (Some(f.my_lead.to_string().as_str()), Some("anna@example.de")));

        // A post without the session's CSRF token is refused.
        assert_eq!(me.post("/portal/returns", &[("lead_id", &f.my_lead.to_string()), ("reason", "duplicate")]).await.status, 403);
        let csrf = page.csrf();
        let asked = me.post("/portal/returns", &[("_csrf", &csrf), ("lead_id", &f.my_lead.to_string()), ("reason", "duplicate"), ("note", "")]).await;
        assert_eq!(asked.status, 303);
        assert!(me.get("/portal/returns").await.body.contains("waiting for the decision"));
        // Returning the other partner's lead from this session: not found.
        let other = me.post("/portal/returns", &[("_csrf", &csrf), ("lead_id", &f.their_lead.to_string()), ("reason", "duplicate")]).await;
        assert_eq!(other.status, 404);
        let before = app.get(&format!("/api/admin/partners/{}", f.mine)).await.1["today"]["total"].as_i64().unwrap();
        let (_, pending) = app.get("/api/admin/returns?status=pending").await;
        let id = pending["returns"][0]["id"].as_i64().unwrap();
        assert_eq!(app.post(&format!("/api/admin/returns/{id}/approve"), json!({"remark": "ok"})).await.0, 200);
        let after = app.get(&format!("/api/admin/partners/{}", f.mine)).await.1["today"]["total"].as_i64().unwrap();
        assert_eq!(after, before - 1);
        let decided = me.get("/portal/returns").await;
        assert!(rows(&decided).iter().any(|r| r.contains("approved") && r.contains("ok") && r.contains("Duplicate")), "{:?}", rows(&decided));
        // The portal's list says the lead is returned, not delivered.
        let list = me.get("/portal").await;
        let mine = rows(&list).into_iter().find(|r| r.contains(&format!("#{}", f.my_lead))).unwrap();
        assert!(mine.contains("returned") && !mine.contains("delivered|"), "{mine}");

        // A test lead from the portal reaches the partner's webhook.
        let test = me.post("/portal/test", &[("_csrf", &csrf)]).await;
        assert_eq!(test.status, 200);
        assert!(test.body.contains("HTTP 200"), "{}", test.body);
        assert_eq!(me.get("/portal/conversions").await.status, 200);

        // Removed: the session stops working at once.
        let r = app.admin(reqwest::Method::DELETE, &format!("/api/admin/partners/{}/users/{my_user}", f.mine), None).await;
        assert_eq!(r.0, 200, "{:?}", r.1);
        let gone = me.get("/portal").await;
        assert_eq!((gone.status, gone.location.as_deref()), (303, Some("/portal/login")));
        f.app.stop().await;
    }
}

both_backends! {
    async fn portal_logins_are_throttled_and_invitations_are_one_per_address(db) {
        let f = fixture(db).await;
        let app = &f.app;
        let (_me, _) = logged_in(app, f.mine, "buyer@berlin.example").await;
        // The same address for another partner: refused.
        let (s, _) = app.post(&format!("/api/admin/partners/{}/users", f.theirs), json!({"email": "Buyer@Berlin.example"})).await;
        assert_eq!(s, 409);
        let (s, e) = app.post(&format!("/api/admin/partners/{}/users", f.theirs), json!({"email": "not an address"})).await;
        assert_eq!(s, 422, "{e}");
        let mut c = Console::new(app);
        for _ in 0..5 {
            let p = c.post("/portal/login", &[("email", "buyer@berlin.example"), ("password", "wrong")]).await;
            assert!(p.body.contains("Invalid email or password"));
        }
        let locked = c.post("/portal/login", &[("email", "buyer@berlin.example"), ("password", "partner portal password")]).await;
        assert_eq!(locked.status, 429, "even the right password, after five failures");
        let (_, users) = app.get(&format!("/api/admin/partners/{}/users", f.mine)).await;
        assert_eq!(users["users"][0]["status"], json!("active"), "{users}");
        assert_eq!(users["users"].as_array().map(Vec::len), Some(1));
        f.app.stop().await;
    }
}
