//! The supplier portal in a real headless Chromium: an operator invites a supplier's user
//! from the source's page, the `supplier_invite` mail reaches a fake Postmark, its link
//! sets a password, and the user sees its leads (delivered, rejected, what they earned),
//! today against its cap, a lead's postbacks, its integration, and tries a submission that
//! is neither stored nor counted — never a partner's name, never another source's lead
//! (not found at its URL). Screenshots in `target/screenshots/`.

use crate::delivery::{delivering, lead_in, partner};
use crate::support::browser::Browser;
use crate::support::eventually;
use crate::support::fake_postmark::FakePostmark;
use crate::support::receiver::{Receiver, Reply};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_supplier_user_follows_its_leads_and_earnings_in_the_browser() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let pm = FakePostmark::start().await;
    let mut env: Vec<(&str, String)> = pm.env();
    env.push(("LEADROUTER_TIMEZONE", "Europe/Berlin".into()));
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = delivering(leadrouter_store::testing::TestDatabase::sqlite(), &vars).await;
    let url = |p: &str| format!("{}{p}", app.base);
    let rx = Receiver::start("127.0.0.1").await;
    rx.otherwise(Reply::Status(200));
    let picky = Receiver::start("127.0.0.1").await;
    picky.otherwise(Reply::Status(400));
    let tracker = Receiver::start("127.0.0.1").await;
    tracker.otherwise(Reply::Status(200));
    partner(
        &app,
        "Berlin Buyers GmbH",
        &rx.url("partner.test", "/in"),
        json!({}),
    )
    .await;
    partner(
        &app,
        "Roma Leads",
        &picky.url("second.test", "/it"),
        json!({"country": "italy"}),
    )
    .await;
    let (s, acme) = app
        .post(
            "/api/admin/sources",
            json!({"name": "Acme Media Performance Marketing Ltd.", "kind": "webhook",
                "cost_per_lead": "12.50", "daily_cap": 200, "default_niche": "forex",
                "postback_url": format!("{}?cid={{click_id}}&e={{event}}", tracker.url("partner.test", "/pb"))}),
        )
        .await;
    assert_eq!(s, 201, "{acme}");
    let (acme_id, token) = (
        acme["id"].as_i64().unwrap(),
        acme["token"].as_str().unwrap().to_string(),
    );
    let (_, other) = app
        .source(json!({"name": "Other Affiliate", "kind": "webhook"}))
        .await;
    let send = |token: String, body: Value| {
        let app = &app;
        async move {
            let (s, r) = app.send_lead(&token, body).await;
            assert_eq!(s, 202, "{r}");
            r["lead_id"].as_i64().unwrap()
        }
    };
    let mut mine = Vec::new();
    for i in 0..3 {
        mine.push(
            send(
                token.clone(),
                json!({"email": format!("lead{i}@example.de"), "country": "de",
            "external_id": format!("acme-click-{i}"), "click_id": format!("c{i}")}),
            )
            .await,
        );
    }
    let rejected = send(
        token.clone(),
        json!({"email": "rossi@example.it", "country": "it", "external_id": "acme-click-it"}),
    )
    .await;
    let theirs = send(
        other,
        json!({"email": "o@example.de", "country": "de", "niche": "forex"}),
    )
    .await;
    for id in mine.iter().chain([&theirs]) {
        lead_in(&app, &json!(id), "delivered").await;
    }
    lead_in(&app, &json!(rejected), "failed").await;
    eventually("the postbacks sent", || async {
        app.run_until_idle().await;
        let (_, l) = app
            .get(&format!("/api/admin/sources/{acme_id}/postbacks"))
            .await;
        let rows = l["postbacks"].as_array().cloned().unwrap_or_default();
        (rows.len() == 4 && rows.iter().all(|p| p["status"] == "sent")).then_some(())
    })
    .await;

    // The operator invites from the source's page.
    b.first_admin(&app.base, "ops@leadbiz.de", "correct horse battery staple")
        .await;
    b.goto(&url(&format!("/admin/sources/{acme_id}"))).await;
    b.fill("Email", "feeds@acme.example").await;
    b.press("Invite user").await;
    let said = b.text().await;
    assert!(
        said.contains("feeds@acme.example invited") && said.contains("invited"),
        "{said}"
    );
    b.screenshot("source-supplier-invited").await;
    app.run_until_idle().await;
    let invites = pm.tagged("supplier_invite");
    assert_eq!(invites.len(), 1, "one invitation at the fake Postmark");
    assert_eq!(invites[0]["To"], "feeds@acme.example");
    let text = invites[0]["TextBody"].as_str().unwrap();
    let at = text.find("/supplier/accept/").expect("a link in the mail");
    let link = text[at..].split_whitespace().next().unwrap().to_string();

    b.goto(&url(&link)).await;
    assert!(b.text().await.contains("Supplier portal"));
    b.fill("Password", "supplier portal password").await;
    b.fill("Confirm password", "supplier portal password").await;
    b.press("Set password").await;
    assert_eq!(b.path().await, "/supplier");
    let page = b.text().await;
    for id in mine.iter().chain([&rejected]) {
        assert!(page.contains(&format!("#{id}")), "{page}");
    }
    assert!(
        page.contains("acme-click-0") && page.contains("4 / 200") && page.contains("37.50"),
        "{page}"
    );
    assert!(
        !page.contains(&format!("#{theirs}"))
            && !page.contains("Berlin Buyers")
            && !page.contains("Roma Leads"),
        "{page}"
    );
    b.screenshot("supplier-leads").await;

    b.press(&format!("#{}", mine[0])).await;
    let lead = b.text().await;
    assert!(
        lead.contains("acme-click-0") && lead.contains("delivered") && lead.contains("sent"),
        "{lead}"
    );
    assert!(!lead.contains("Berlin Buyers"), "{lead}");
    b.screenshot("supplier-lead").await;
    b.goto(&url(&format!("/supplier/leads/{theirs}"))).await;
    assert!(b.text().await.contains("You sent no lead with this id"));

    b.press("Integration").await;
    let integ = b.text().await;
    assert!(
        integ.contains("/api/webhook/") && integ.contains("e={event}"),
        "{integ}"
    );
    b.screenshot("supplier-integration").await;

    b.press("Test submission").await;
    b.press("Try submission").await;
    let tried = b.text().await;
    assert!(
        tried.contains("Accepted") && tried.contains("A buyer would take this lead now"),
        "{tried}"
    );
    b.screenshot("supplier-test").await;
    b.fill("Lead (JSON)", r#"{"email": "nope", "country": "Atlantis"}"#)
        .await;
    b.press("Try submission").await;
    let refused = b.text().await;
    assert!(
        refused.contains("Not accepted")
            && refused.contains("country")
            && refused.contains("email"),
        "{refused}"
    );
    b.screenshot("supplier-test-refused").await;
    b.goto(&url("/supplier")).await;
    assert!(b.text().await.contains("4 / 200"), "a test counts nothing");
    let (_, all) = app.get("/api/admin/leads?limit=100").await;
    assert_eq!(
        all["leads"].as_array().map(Vec::len),
        Some(5),
        "a test stores nothing"
    );
    b.c.clone().close().await.unwrap();
    app.stop().await;
}
