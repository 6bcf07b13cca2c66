//! The console in a real headless Chromium: first run and login, the guide's partner entered
//! through Add Partner as the guide writes it, a refused webhook, a lead found in Leads with
//! its routing and its 200 attempt, pause and resume, a failed delivery retried from the
//! queue. Screenshots of each page land in `target/screenshots/`.

use crate::delivery::delivering;
use crate::support::browser::Browser;
use crate::support::receiver::{Receiver, Reply};
use crate::support::{eventually_within, TestApp};
use serde_json::json;
use std::time::Duration;

const EMAIL: &str = "ops@leadbiz.de";
const PASSWORD: &str = "correct horse battery staple";

async fn lead_status(app: &TestApp, id: i64) -> String {
    app.get(&format!("/api/admin/leads/{id}")).await.1["status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_the_guides_setup_in_the_browser() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = delivering(leadrouter_store::testing::TestDatabase::sqlite(), &[]).await;
    let rx = Receiver::start("127.0.0.1").await;
    let url = |p: &str| format!("{}{p}", app.base);

    // First run: the console sends the very first visitor to setup.
    b.goto(&url("/admin")).await;
    assert_eq!(b.path().await, "/admin/setup");
    // Without the setup token nobody is made, and the page says why beside the field.
    b.fill("Setup token", "a guess").await;
    b.fill("Email", EMAIL).await;
    b.fill("Password", PASSWORD).await;
    b.fill("Confirm password", PASSWORD).await;
    b.press("Create admin").await;
    assert!(b.text().await.contains("is not this server's setup token"));
    b.screenshot("setup-refused").await;
    b.fill("Setup token", crate::support::SETUP_TOKEN).await;
    b.fill("Email", EMAIL).await;
    b.fill("Password", PASSWORD).await;
    b.fill("Confirm password", PASSWORD).await;
    b.press("Create admin").await;
    assert_eq!(b.path().await, "/admin");
    b.press("Log out").await;
    assert_eq!(b.path().await, "/admin/login");
    b.fill("Email", EMAIL).await;
    b.fill("Password", PASSWORD).await;
    b.press("Log in").await;
    assert_eq!(b.path().await, "/admin");

    // Access Admin Dashboard → Partners → Add Partner, with the guide's values; first with a
    // plain-http webhook, which is refused beside its field with everything else kept.
    b.press("Partners").await;
    b.press("Add Partner").await;
    assert_eq!(b.path().await, "/admin/partners/new");
    b.fill("Partner Name", "FX Trading Partners Ltd").await;
    b.fill("Email", "integration@fxpartners.com").await;
    b.choose("Country", "Germany (germany)").await;
    b.choose("Niche", "Forex (forex)").await;
    b.fill("Daily Limit", "50").await;
    b.fill("Premium Ratio", "70%").await;
    b.fill("Timezone", "Europe/Berlin").await;
    b.fill("Webhook URL", "http://fxpartners.com/api/leads")
        .await;
    b.choose("Phone Format", "International (+1234567890)")
        .await;
    b.fill("Required Fields", "name,email,phone,country").await;
    b.press("Save Partner").await;
    let error =
        b.c.find(fantoccini::Locator::Id("webhook_url-error"))
            .await
            .expect("an error beside Webhook URL");
    assert_eq!(error.text().await.unwrap(), "must use https");
    assert_eq!(b.value("Partner Name").await, "FX Trading Partners Ltd");
    assert_eq!(b.value("Premium Ratio").await, "70%");
    assert_eq!(b.value("Required Fields").await, "name,email,phone,country");
    b.screenshot("add-partner-refused").await;
    // The partner's endpoint here is a local HTTPS receiver standing in for fxpartners.com.
    b.fill("Webhook URL", &rx.url("partner.test", "/api/leads"))
        .await;
    b.press("Save Partner").await;
    let page = b.text().await;
    assert!(b.path().await.starts_with("/admin/partners/"), "{page}");
    assert!(
        page.contains("pk_") && page.contains("whsec_"),
        "key and secret shown: {page}"
    );
    b.screenshot("partner-created").await;
    let partner_path = b.path().await;
    b.goto(&url(&partner_path)).await;
    assert!(!b.text().await.contains("whsec_"), "shown only once");
    b.press("Partners").await;
    let list = b.text().await;
    assert!(
        list.contains("FX Trading Partners Ltd") && list.contains("0 / 50"),
        "{list}"
    );
    b.screenshot("partners").await;

    // A lead through the inbound API, as the guide's source would send it.
    let (_, token) = app
        .source(
            json!({"name": "Facebook campaign", "kind": "webhook", "source_label": "facebook_ads"}),
        )
        .await;
    let (status, r) = app
        .send_lead(
            &token,
            json!({"name": "John Smith", "email": "john.smith@email.com",
        "phone": "+491234567890", "country": "germany", "niche": "forex", "type": "premium"}),
        )
        .await;
    assert_eq!(status, 202, "{r}");
    let lead_id = r["lead_id"].as_i64().unwrap();
    app.run_until_idle().await;
    assert_eq!(lead_status(&app, lead_id).await, "delivered");
    b.press("Leads").await;
    b.fill("Search", "john.smith@email.com").await;
    b.press("Filter").await;
    b.screenshot("leads").await;
    b.press("john.smith@email.com").await;
    assert_eq!(b.path().await, format!("/admin/leads/{lead_id}"));
    let lead = b.text().await;
    assert!(lead.contains("FX Trading Partners Ltd"), "{lead}");
    assert!(
        lead.contains("chosen: lowest count today"),
        "the routing explanation: {lead}"
    );
    assert!(
        lead.contains("200") && lead.contains("delivered"),
        "the 200 attempt: {lead}"
    );
    b.screenshot("lead").await;

    // Pause and resume.
    b.goto(&url(&partner_path)).await;
    b.press("Pause").await;
    assert!(b.text().await.contains("paused"));
    b.press("Resume").await;
    assert!(b.text().await.contains("Partner resumed."));
    b.press_partial("Send test lead", "#test-result .card")
        .await;
    let tested = b.text().await;
    assert!(
        tested.contains("Test lead:") && tested.contains("status code 200"),
        "{tested}"
    );
    b.screenshot("partner").await;

    // A partner that answers 500: its delivery fails for good, then is retried from the queue.
    let failing = Receiver::start("127.0.0.1").await;
    failing.otherwise(Reply::Status(500));
    let (s, p) = app.post("/api/admin/partners", json!({"name": "Recovery Specialists Spain", "country": "spain",
        "niche": "recovery", "webhook_url": failing.url("second.test", "/api/new-lead"), "phone_format": "local"})).await;
    assert_eq!(s, 201, "{p}");
    let (_, r) = app
        .send_lead(
            &token,
            json!({"name": "Ana Ruiz", "email": "ana@example.es", "country": "spain",
        "niche": "recovery", "phone": "+34600123456"}),
        )
        .await;
    let failed_id = r["lead_id"].as_i64().unwrap();
    eventually_within(
        Duration::from_secs(30),
        "the delivery failed for good",
        || async { (lead_status(&app, failed_id).await == "failed").then_some(()) },
    )
    .await;
    b.press("Deliveries").await;
    let queue = b.text().await;
    assert!(
        queue.contains("Recovery Specialists Spain") && queue.contains("HTTP 500"),
        "{queue}"
    );
    b.screenshot("deliveries").await;
    b.goto(&url("/admin/deliveries?status=retrying")).await;
    b.screenshot("deliveries-retrying").await;
    b.goto(&url("/admin/leads/99999")).await;
    assert!(b.text().await.contains("Back to the console"));
    b.screenshot("not-found").await;
    b.goto(&url("/admin/deliveries")).await;
    failing.otherwise(Reply::Status(200));
    b.press("Retry all matching").await;
    assert!(b.text().await.contains("1 delivery retried."));
    app.run_until_idle().await;
    assert_eq!(lead_status(&app, failed_id).await, "delivered");
    b.press("Analytics").await;
    assert!(b.text().await.contains("Received"));
    b.screenshot("analytics").await;
    // By partner: the three charts, each over its table, the partners by name.
    b.choose("Group by", "Partner").await;
    b.press("Show").await;
    let text = b.text().await;
    for heading in [
        "Leads",
        "Partner response time",
        "Conversions and revenue",
        "FX Trading Partners Ltd",
    ] {
        assert!(text.contains(heading), "{heading} in {text}");
    }
    b.c.execute(
        "document.querySelectorAll('h2')[1].scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    b.screenshot("analytics-by-partner").await;
    b.press("Overview").await;
    b.screenshot("overview").await;
    b.c.clone().close().await.unwrap();
    app.stop().await;
}
