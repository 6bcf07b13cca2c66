//! Data protection in a real headless Chromium: the lead's page shows its consent
//! evidence; the Audit page lists who changed a partner, field by field, and its "Revert"
//! puts the settings back; "Erase this person" (after its question) erases the lead and
//! tells the partner. Screenshots in `target/screenshots/`.

use crate::delivery::delivering;
use crate::support::browser::Browser;
use crate::support::receiver::Receiver;
use serde_json::json;

const TEXT: &str = "I agree to be called by Berlin Buyers GmbH about investment offers.";

/// A partner whose daily limit was changed from 100 to 40 (through the API), and a lead
/// with consent evidence delivered to it.
async fn partner_changed_and_a_lead(app: &crate::support::TestApp, rx: &Receiver) -> (i64, i64) {
    let (s, p) = app
        .post(
            "/api/admin/partners",
            json!({"name": "Berlin Buyers GmbH", "country": "germany",
        "niche": "forex", "daily_limit": 100, "webhook_url": rx.url("partner.test", "/in"),
        "erasure_webhook_url": rx.url("partner.test", "/erased")}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let partner = p["id"].as_i64().unwrap();
    let (s, _) = app
        .patch(
            &format!("/api/admin/partners/{partner}"),
            json!({"daily_limit": 40}),
        )
        .await;
    assert_eq!(s, 200);
    let (_, token) = app
        .source(json!({"name": "Landing page", "kind": "webhook"}))
        .await;
    let (s, r) = app.send_lead(&token, json!({"email": "greta.engel@example.de", "first_name": "Greta",
        "country": "de", "niche": "forex", "consent": {"text": TEXT, "version": "2026-11",
        "given_at": "2026-11-30T08:15:00Z", "ip": "203.0.113.9", "user_agent": "Mozilla/5.0 (X11; Linux)",
        "page_url": "https://lp.example/forex"}})).await;
    assert_eq!(s, 202, "{r}");
    let lead = r["lead_id"].as_i64().unwrap();
    app.run_until_idle().await;
    (partner, lead)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_reads_consent_reverts_a_change_and_erases_a_person_in_the_browser() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = delivering(leadrouter_store::testing::TestDatabase::sqlite(), &[]).await;
    let rx = Receiver::start("127.0.0.1").await;
    let url = |p: &str| format!("{}{p}", app.base);
    let (partner, lead) = partner_changed_and_a_lead(&app, &rx).await;

    b.first_admin(&app.base, "ops@leadbiz.de", "correct horse battery staple")
        .await;
    b.goto(&url(&format!("/admin/leads/{lead}"))).await;
    let page = b.text().await;
    assert!(
        page.contains(TEXT)
            && page.contains("203.0.113.9")
            && page.contains("Mozilla/5.0 (X11; Linux)"),
        "{page}"
    );
    assert!(page.contains("2026-11"), "the version: {page}");
    b.screenshot("lead-consent").await;

    b.goto(&url(&format!("/admin/partners/{partner}"))).await;
    b.press("Changes").await;
    assert!(
        b.text().await.contains("daily_limit"),
        "the partner's own changes"
    );
    b.press("Audit").await;
    assert_eq!(b.path().await, "/admin/audit");
    let page = b.text().await;
    assert!(
        page.contains("daily_limit") && page.contains("update") && page.contains("create"),
        "{page}"
    );
    b.choose("What", "partner").await;
    b.press("Filter").await;
    b.screenshot("audit").await;
    b.press("Revert").await;
    assert_eq!(b.path().await, format!("/admin/partners/{partner}"));
    assert!(b
        .text()
        .await
        .contains("Settings put back as they were before change"));
    let (_, now) = app.get(&format!("/api/admin/partners/{partner}")).await;
    assert_eq!(now["daily_limit"], 100, "reverted");

    b.goto(&url(&format!("/admin/leads/{lead}"))).await;
    b.press_and_confirm("Erase this person").await;
    let page = b.text().await;
    assert!(
        page.contains("Erased 1 lead(s) of this person; 1 partner(s) told."),
        "{page}"
    );
    assert!(
        !page.contains("greta.engel@example.de") && !page.contains("203.0.113.9"),
        "{page}"
    );
    b.screenshot("lead-erased").await;
    b.press("Leads").await;
    assert!(
        b.text().await.contains("erased"),
        "the list marks the erased lead"
    );
    app.run_until_idle().await;
    assert_eq!(
        rx.requests().iter().filter(|r| r.path == "/erased").count(),
        1,
        "the partner's erasure webhook was told"
    );
    b.goto(&url("/admin/audit")).await;
    let page = b.text().await;
    assert!(
        page.contains("revert") && page.contains("erase") && page.contains("ops@leadbiz.de"),
        "{page}"
    );
    b.screenshot("audit-after").await;
    app.stop().await;
}
