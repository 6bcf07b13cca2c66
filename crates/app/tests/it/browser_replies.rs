//! Partner replies in a real headless Chromium: an operator writes a broker's reply rules
//! on its Edit page (rows of path / condition / value / outcome), checks them against the
//! partner's past answers before saving, sees a wrong rule refused beside its row, saves,
//! and finds the partner's lead id and reason on a lead's page. Screenshots in
//! `target/screenshots/`.

use crate::delivery::{delivering, lead_in};
use crate::support::browser::Browser;
use crate::support::receiver::{Receiver, Reply};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_writes_reply_rules_checks_them_and_sees_the_partners_verdicts() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = delivering(leadrouter_store::testing::TestDatabase::sqlite(), &[]).await;
    let url = |p: &str| format!("{}{p}", app.base);
    let rx = Receiver::start("127.0.0.1").await;
    rx.script(vec![
        Reply::Body(200, r#"{"success": true, "data": {"id": "CRM-1"}}"#.into()),
        Reply::Body(
            200,
            r#"{"success": false, "message": "Email already exists"}"#.into(),
        ),
    ]);
    rx.otherwise(Reply::Body(
        200,
        r#"{"success": false, "message": "Country not allowed"}"#.into(),
    ));
    let (s, p) = app
        .post(
            "/api/admin/partners",
            json!({"name": "Broker CRM with a rather long name GmbH & Co. KG",
        "country": "germany", "niche": "forex", "webhook_url": rx.url("partner.test", "/api")}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_i64().unwrap();
    let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
    let mut leads = Vec::new();
    for email in ["anna@example.de", "otto@example.de"] {
        let (_, r) = app
            .send_lead(
                &token,
                json!({"email": email, "country": "germany", "niche": "forex"}),
            )
            .await;
        lead_in(&app, &r["lead_id"], "delivered").await;
        leads.push(r["lead_id"].as_i64().unwrap());
    }

    b.first_admin(&app.base, "ops@leadbiz.de", "correct horse battery staple")
        .await;
    b.goto(&url(&format!("/admin/partners/{id}/edit"))).await;
    // Two rules, and where the answer keeps the partner's id and its reason.
    b.fill_nth("rule_path", 0, "message").await;
    b.choose_nth("rule_condition", 0, "contains").await;
    b.fill_nth("rule_value", 0, "exists").await;
    b.choose_nth("rule_then", 0, "duplicate").await;
    b.fill_nth("rule_path", 1, "success").await;
    b.choose_nth("rule_condition", 1, "equals").await;
    b.fill_nth("rule_value", 1, "false").await;
    b.choose_nth("rule_then", 1, "rejected").await;
    b.fill("Partner lead id at", "data.id").await;
    b.fill("Reason at", "message").await;
    // Before saving: how would the two past answers read?
    b.press("Check against past answers").await;
    let text = b.text().await;
    assert!(
        text.contains("1 of 2 recent answers would read differently"),
        "{text}"
    );
    assert!(
        text.contains("Email already exists"),
        "the reason the rules take: {text}"
    );
    b.screenshot("partner-replies-preview").await;
    let (_, now) = app.get(&format!("/api/admin/partners/{id}")).await;
    assert_eq!(now["response"], Value::Null, "checking saved nothing");
    // A status rule with no codes is refused beside its row; the rest is kept.
    b.choose_nth("rule_condition", 2, "status is one of").await;
    b.fill_nth("rule_value", 2, "soon").await;
    b.choose_nth("rule_then", 2, "retry").await;
    b.press("Save Partner").await;
    let text = b.text().await;
    assert!(
        text.contains("Rule 3:") && text.contains("HTTP status codes"),
        "{text}"
    );
    b.screenshot("partner-replies-refused").await;
    b.fill_nth("rule_value", 2, "503").await;
    b.press("Save Partner").await;
    assert_eq!(b.path().await, format!("/admin/partners/{id}"));
    let (_, saved) = app.get(&format!("/api/admin/partners/{id}")).await;
    assert_eq!(
        saved["response"],
        json!({"rules": [
        {"if": {"path": "message", "contains": "exists"}, "then": "duplicate"},
        {"if": {"path": "success", "equals": false}, "then": "rejected"},
        {"if": {"status": [503]}, "then": "retry"}],
        "partner_lead_id": "data.id", "reason": "message"})
    );
    // The Edit page shows the rules as saved.
    b.goto(&url(&format!("/admin/partners/{id}/edit#replies")))
        .await;
    b.screenshot("partner-replies-edit").await;

    // A lead it refuses now: its page names the reason; the first lead shows the partner's id.
    let (_, r) = app
        .send_lead(
            &token,
            json!({"email": "eva@example.de", "country": "germany", "niche": "forex"}),
        )
        .await;
    lead_in(&app, &r["lead_id"], "failed").await;
    b.goto(&url(&format!("/admin/leads/{}", r["lead_id"])))
        .await;
    let text = b.text().await;
    assert!(text.contains("their reason: Country not allowed"), "{text}");
    b.screenshot("lead-refused-by-reply").await;
    // Leads answered before the rules were saved keep what they had; a new lead it takes
    // shows its id. (The first lead's answer, CRM-1, was read by status code alone then.)
    rx.otherwise(Reply::Body(
        200,
        r#"{"success": true, "data": {"id": "CRM-4"}}"#.into(),
    ));
    let (_, r) = app
        .send_lead(
            &token,
            json!({"email": "ida@example.de", "country": "germany", "niche": "forex"}),
        )
        .await;
    lead_in(&app, &r["lead_id"], "delivered").await;
    b.goto(&url(&format!("/admin/leads/{}", r["lead_id"])))
        .await;
    assert!(b.text().await.contains("their lead id CRM-4"));
    b.screenshot("lead-with-partner-lead-id").await;
    // A duplicate answer: counted on the partner's page, with what it taught us.
    rx.otherwise(Reply::Body(
        200,
        r#"{"success": true, "message": "Email already exists"}"#.into(),
    ));
    let (_, r) = app
        .send_lead(
            &token,
            json!({"email": "jan@example.de", "phone": "+49 151 22334455",
        "country": "germany", "niche": "forex"}),
        )
        .await;
    lead_in(&app, &r["lead_id"], "failed").await;
    b.goto(&url(&format!("/admin/partners/{id}"))).await;
    let text = b.text().await;
    assert!(
        text.contains("1 in the last 30 days · 2 known contacts"),
        "{text}"
    );
    assert!(text.contains("3 rules"), "{text}");
    b.screenshot("partner-duplicates").await;
    // Analytics count them apart, per partner.
    b.goto(&url("/admin/analytics?group_by=partner")).await;
    let text = b.text().await;
    assert!(text.contains("Duplicates"), "{text}");
    b.screenshot("analytics-duplicates").await;
    app.stop().await;
}
