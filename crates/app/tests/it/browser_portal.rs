//! The partner portal in a real headless Chromium: an operator invites a partner user from
//! the partner's page, the invitation arrives at a fake Postmark, its link sets a password,
//! the user sees its delivered lead with the attempt but not another partner's (not found
//! on its URL, absent from the list and from search), sends a test lead, and requests a
//! return, which the operator approves in the console: the partner's today count drops by
//! one. Screenshots in `target/screenshots/`.

use crate::delivery::delivering;
use crate::support::browser::Browser;
use crate::support::fake_postmark::FakePostmark;
use crate::support::receiver::Receiver;
use crate::support::TestApp;
use serde_json::json;

async fn today(app: &TestApp, partner: i64) -> i64 {
    app.get(&format!("/api/admin/partners/{partner}")).await.1["today"]["total"]
        .as_i64()
        .unwrap()
}

/// Two partners, one lead delivered to each: (Berlin's id, Berlin's lead, Vienna's lead).
async fn two_partners_one_lead_each(app: &TestApp, rx: &Receiver) -> (i64, i64, i64) {
    let mut ids = Vec::new();
    for (name, country) in [
        ("Berlin Buyers GmbH", "germany"),
        ("Vienna Buyers", "austria"),
    ] {
        let (s, p) = app
            .post(
                "/api/admin/partners",
                json!({"name": name, "country": country, "niche": "forex",
            "webhook_url": rx.url("partner.test", "/in")}),
            )
            .await;
        assert_eq!(s, 201, "{p}");
        ids.push(p["id"].as_i64().unwrap());
    }
    let (_, token) = app
        .source(json!({"name": "Landing page", "kind": "webhook"}))
        .await;
    let mut leads = Vec::new();
    for (email, country) in [
        ("anna.schmidt@example.de", "de"),
        ("otto.huber@example.at", "at"),
    ] {
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
    (ids[0], leads[0], leads[1])
}

/// The operator's first run, then "Invite user" on the partner's page; the link from the
/// mail that reached the fake Postmark.
async fn invite_from_the_partner_page(
    b: &Browser,
    app: &TestApp,
    pm: &FakePostmark,
    berlin: i64,
) -> String {
    let url = |p: &str| format!("{}{p}", app.base);
    b.first_admin(&app.base, "ops@leadbiz.de", "correct horse battery staple")
        .await;
    b.goto(&url(&format!("/admin/partners/{berlin}"))).await;
    b.fill("Email", "buyer@berlin-buyers.example").await;
    b.press("Invite user").await;
    assert!(
        b.text()
            .await
            .contains("buyer@berlin-buyers.example invited"),
        "{}",
        b.text().await
    );
    b.screenshot("partner-invited").await;
    app.run_until_idle().await;
    let invites = pm.tagged("portal_invite");
    assert_eq!(invites.len(), 1, "one invitation at the fake Postmark");
    assert_eq!(invites[0]["To"], "buyer@berlin-buyers.example");
    let text = invites[0]["TextBody"].as_str().unwrap();
    let at = text.find("/portal/accept/").expect("a link in the mail");
    let link = text[at..].split_whitespace().next().unwrap().to_string();

    link
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invited_partner_user_works_its_leads_in_the_browser() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let pm = FakePostmark::start().await;
    let env = pm.env();
    let vars: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = delivering(leadrouter_store::testing::TestDatabase::sqlite(), &vars).await;
    let rx = Receiver::start("127.0.0.1").await;
    let url = |p: &str| format!("{}{p}", app.base);
    let (berlin, mine, theirs) = two_partners_one_lead_each(&app, &rx).await;

    let link = invite_from_the_partner_page(&b, &app, &pm, berlin).await;

    // The link sets a password and logs the user in.
    b.goto(&url(&link)).await;
    b.fill("Password", "partner portal password").await;
    b.fill("Confirm password", "partner portal password").await;
    b.press("Set password").await;
    assert_eq!(b.path().await, "/portal");
    let list = b.text().await;
    assert!(
        list.contains(&format!("#{mine}")) && list.contains("anna.schmidt@example.de"),
        "{list}"
    );
    assert!(
        !list.contains("otto.huber@example.at") && !list.contains(&format!("#{theirs}")),
        "{list}"
    );
    b.screenshot("portal-leads").await;
    b.press(&format!("#{mine}")).await;
    let page = b.text().await;
    assert!(
        page.contains("Attempt 1")
            && page.contains("HTTP 200")
            && page.contains("\"email\":\"anna.schmidt@example.de\""),
        "{page}"
    );
    b.screenshot("portal-lead").await;
    b.goto(&url(&format!("/portal/leads/{theirs}"))).await;
    assert!(b
        .text()
        .await
        .contains("No lead with this id was sent to you"));
    b.goto(&url(&format!("/portal?q={theirs}"))).await;
    assert!(b.text().await.contains("No lead of yours matches"));

    // A test lead, then a return of the real one.
    b.press("Test lead").await;
    b.press("Send test lead").await;
    assert!(b.text().await.contains("HTTP 200"), "{}", b.text().await);
    b.screenshot("portal-test-lead").await;
    b.goto(&url(&format!("/portal/leads/{mine}"))).await;
    b.choose("Reason", "Invalid contact details").await;
    b.press("Request return").await;
    assert_eq!(b.path().await, "/portal/returns");
    assert!(b.text().await.contains("waiting for the decision"));
    b.goto(&url("/portal/integration")).await;
    b.screenshot("portal-integration").await;

    // The operator approves in the console; the partner's count for today drops by one.
    let before = today(&app, berlin).await;
    b.goto(&url("/admin/returns")).await;
    b.screenshot("returns").await;
    b.fill("Remark for return 1", "contact bounced").await;
    b.press("Approve").await;
    assert!(b.text().await.contains("approved"), "{}", b.text().await);
    assert_eq!(today(&app, berlin).await, before - 1);
    b.goto(&url("/portal/returns")).await;
    let decided = b.text().await;
    assert!(
        decided.contains("approved") && decided.contains("contact bounced"),
        "{decided}"
    );
    b.screenshot("portal-returns").await;
    b.c.clone().close().await.unwrap();
    app.stop().await;
}
