//! An operator's day in a real headless Chromium, from start to end: the guide's setup (a
//! partner through Add Partner, a source through New source), leads from a supplier, the
//! only partner of the market failing and paused, its waiting leads held (not failed),
//! Resume delivering them to it, a return approved; and a viewer who sees everything but
//! whose changes are refused. No lead ends `failed` that a partner could still take.
//! Screenshots in `target/screenshots/`.

use crate::delivery::delivering;
use crate::support::browser::Browser;
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually, TestApp};
use fantoccini::Locator;
use serde_json::json;

const EMAIL: &str = "ops@leadbiz.de";
const VIEWER: &str = "look@leadbiz.de";
const PASSWORD: &str = "correct horse battery staple";

/// The text of each `.secret code` on the page (what is shown once).
async fn shown_once(b: &Browser) -> Vec<String> {
    let mut out = Vec::new();
    for e in b.c.find_all(Locator::Css(".secret code")).await.unwrap() {
        out.push(e.text().await.unwrap());
    }
    out
}

async fn statuses(app: &TestApp, ids: &[i64]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        let (_, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        out.push(lead["status"].as_str().unwrap_or_default().to_string());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_day_from_setup_to_a_return_loses_no_lead() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = delivering(
        leadrouter_store::testing::TestDatabase::sqlite(),
        &[("LEADROUTER_PAUSE_AFTER_FAILURES", "3")],
    )
    .await;
    let rx = Receiver::start("127.0.0.1").await;
    let url = |p: &str| format!("{}{p}", app.base);
    b.first_admin(&app.base, EMAIL, PASSWORD).await;

    // The guide's partner, through Add Partner.
    b.press("Partners").await;
    b.press("Add Partner").await;
    b.fill("Partner Name", "FX Trading Partners Ltd").await;
    b.fill("Email", "integration@fxpartners.com").await;
    b.choose("Country", "Germany (germany)").await;
    b.choose("Niche", "Forex (forex)").await;
    b.fill("Daily Limit", "50").await;
    b.fill("Premium Ratio", "70%").await;
    b.fill("Timezone", "Europe/Berlin").await;
    b.fill("Webhook URL", &rx.url("partner.test", "/api/leads"))
        .await;
    b.fill("Required Fields", "name,email,phone,country").await;
    b.press("Save Partner").await;
    let partner_path = b.path().await;
    let pid: i64 = partner_path.rsplit('/').next().unwrap().parse().unwrap();
    let api_key = shown_once(&b)
        .await
        .into_iter()
        .find(|s| s.starts_with("pk_"))
        .expect("the API key, shown once");

    // A supplier's source, through New source: its URL shown once, its posting
    // instructions any time.
    b.press("Sources").await;
    b.press("New source").await;
    b.fill("Name", "Facebook campaign Berlin").await;
    b.fill("Source label", "facebook_ads").await;
    b.press("Create source").await;
    let secrets = shown_once(&b).await;
    let shown_url = secrets
        .iter()
        .find(|s| s.contains("/api/webhook/"))
        .expect("the inbound URL, shown once");
    // (The test server's public URL is not where it listens: the same path, on its port.)
    let inbound = url(&shown_url[shown_url.find("/api/webhook/").unwrap()..]);
    let source_path = b.path().await;
    b.goto(&url(&source_path)).await;
    assert!(b.text().await.contains("Posting instructions"));
    b.screenshot("walk-source").await;

    // The partner's endpoint fails: the supplier's leads wait for its retries, and the
    // third failure in a row pauses the only partner of the market.
    rx.otherwise(Reply::Status(500));
    let client = reqwest::Client::new();
    let mut ids = Vec::new();
    for (i, name) in ["John Smith", "Anna Weber"].iter().enumerate() {
        let r = client
            .post(&inbound)
            .json(&json!({"lead_id": format!("1234{i}"), "name": name,
                "email": format!("lead{i}@email.com"), "phone": format!("+4915112345{i}78"),
                "country": "germany", "niche": "forex", "type": "premium", "source": "facebook_ads"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 202);
        let body: serde_json::Value = r.json().await.unwrap();
        ids.push(body["lead_id"].as_i64().unwrap());
    }
    eventually("the partner paused", || async {
        (app.get(&format!("/api/admin/partners/{pid}")).await.1["status"] == "paused").then_some(())
    })
    .await;
    app.run_until_idle().await;
    assert_eq!(
        statuses(&app, &ids).await,
        ["held", "held"],
        "waiting, not failed"
    );
    b.goto(&url(&partner_path)).await;
    assert!(b.text().await.contains("failed deliveries in a row"));
    b.screenshot("walk-partner-paused").await;
    b.press("Overview").await;
    b.screenshot("walk-overview-held").await;
    b.goto(&url(&format!("/admin/leads/{}", ids[0]))).await;
    let lead = b.text().await;
    assert!(!lead.contains("no partner left"), "{lead}");
    b.screenshot("walk-lead-held").await;

    // The partner mends its endpoint; Resume sends both to it.
    rx.otherwise(Reply::Status(200));
    b.goto(&url(&partner_path)).await;
    b.press("Resume").await;
    app.run_until_idle().await;
    assert_eq!(statuses(&app, &ids).await, ["delivered", "delivered"]);
    b.goto(&url(&format!("/admin/leads/{}", ids[0]))).await;
    let lead = b.text().await;
    assert!(
        !lead.contains("no · paused"),
        "the explanation is the pass that sent it: {lead}"
    );
    b.screenshot("walk-lead-delivered").await;

    // The partner returns one (through its API); the operator approves it.
    let r = client
        .post(url(&format!("/api/return/{pid}")))
        .bearer_auth(&api_key)
        .json(&json!({"lead_id": ids[1], "reason": "invalid_contact"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    b.press("Returns").await;
    assert!(
        b.text().await.contains("Invalid contact details"),
        "the reason's label, not its code"
    );
    b.press("Approve").await;
    assert!(b.text().await.contains("approved"));
    b.screenshot("walk-return-approved").await;

    // At the end of the day: no lead failed that a partner could take.
    let (_, failed) = app.get("/api/admin/leads?status=failed").await;
    assert_eq!(failed["leads"], json!([]), "{failed}");
    assert_eq!(statuses(&app, &ids).await, ["delivered", "returned"]);

    // A viewer: every page, no buttons of changes; a change from a page opened while it
    // was still an admin is refused with a page that says why.
    b.press("Users").await;
    b.fill("Email", VIEWER).await;
    b.fill("Password", PASSWORD).await;
    b.choose(
        "Role",
        "viewer — sees every page; changes, exports of personal data and erasure are refused",
    )
    .await;
    b.press("Add user").await;
    assert!(b.text().await.contains(VIEWER));
    b.screenshot("walk-users").await;
    b.press("Log out").await;
    b.fill("Email", VIEWER).await;
    b.fill("Password", PASSWORD).await;
    b.press("Log in").await;
    b.goto(&url(&partner_path)).await;
    let page = b.text().await;
    assert!(
        page.contains("FX Trading Partners Ltd") && !page.contains("Rotate API key"),
        "{page}"
    );
    assert!(b
        .c
        .find(Locator::XPath("//button[normalize-space()='Pause']"))
        .await
        .is_err());
    b.screenshot("walk-viewer-partner").await;
    // Made an admin, it opens the page with its buttons; made a viewer again meanwhile,
    // its press is refused.
    let viewer_id = app
        .store
        .admin_user_by_email(VIEWER)
        .await
        .unwrap()
        .unwrap()
        .id;
    let admin = app
        .store
        .admin_user_by_email(EMAIL)
        .await
        .unwrap()
        .unwrap()
        .id;
    let actor = leadrouter_store::audit::Actor::user(admin, EMAIL);
    let role = |r| app.store.set_admin_role(viewer_id, r, 1, &actor);
    role(leadrouter_core::role::Role::Admin).await.unwrap();
    b.goto(&url(&partner_path)).await;
    role(leadrouter_core::role::Role::Viewer).await.unwrap();
    b.press("Pause").await;
    let refused = b.text().await;
    assert!(refused.contains("viewer"), "{refused}");
    b.screenshot("walk-viewer-refused").await;
    assert_eq!(
        app.get(&format!("/api/admin/partners/{pid}")).await.1["status"],
        "active"
    );
    b.c.clone().close().await.unwrap();
    app.stop().await;
}
