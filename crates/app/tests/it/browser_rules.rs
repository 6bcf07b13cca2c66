//! Partner filters in a real headless Chromium: an operator writes a recovery firm's
//! filters as rows on its Edit page, sees a wrong one refused beside its row, saves, and
//! reads them on the partner's page; a lead they keep out shows why on its page.
//! Screenshots in `target/screenshots/`.

use crate::delivery::{delivering, lead_in};
use crate::support::browser::Browser;
use crate::support::receiver::{Receiver, Reply};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_writes_a_partners_filters_in_rows_and_sees_why_a_lead_was_kept_out() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = delivering(leadrouter_store::testing::TestDatabase::sqlite(), &[]).await;
    let url = |p: &str| format!("{}{p}", app.base);
    let rx = Receiver::start("127.0.0.1").await;
    rx.otherwise(Reply::Status(200));
    let (s, p) = app
        .post(
            "/api/admin/partners",
            json!({"name": "Recovery Specialists Spain",
        "country": "spain", "niche": "recovery", "webhook_url": rx.url("partner.test", "/in")}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_i64().unwrap();

    b.first_admin(&app.base, "ops@leadbiz.de", "correct horse battery staple")
        .await;
    b.goto(&url(&format!("/admin/partners/{id}/edit#filters")))
        .await;
    b.fill_nth("filter_field", 0, "amount_lost").await;
    b.choose_nth("filter_op", 0, "≥").await;
    b.fill_nth("filter_value", 0, "lots").await;
    b.fill("Weight", "70").await;
    b.fill("Priority", "1").await;
    b.fill_nth("filter_field", 1, "fraud_type").await;
    b.choose_nth("filter_op", 1, "is one of").await;
    b.fill_nth("filter_value", 1, "crypto, forex").await;
    b.press("Save Partner").await;
    let text = b.text().await;
    assert!(text.contains("Filter 1: must be a number"), "{text}");
    assert!(
        text.contains("Filters, filter 1: must be a number"),
        "the summary: {text}"
    );
    b.screenshot("partner-filters-refused").await;
    b.fill_nth("filter_value", 0, "1000").await;
    b.press("Save Partner").await;
    assert_eq!(b.path().await, format!("/admin/partners/{id}"));
    let text = b.text().await;
    assert!(
        text.contains("amount_lost gte 1000 · fraud_type in crypto, forex"),
        "{text}"
    );
    b.screenshot("partner-filters").await;
    let (_, saved) = app.get(&format!("/api/admin/partners/{id}")).await;
    assert_eq!(
        saved["filters"],
        json!([{"field": "amount_lost", "op": "gte", "value": "1000"},
        {"field": "fraud_type", "op": "in", "value": ["crypto", "forex"]}])
    );

    // A lead below the amount is held, and its page says why.
    let (_, token) = app.source(json!({"name": "ES", "kind": "webhook"})).await;
    let (_, r) = app
        .send_lead(
            &token,
            json!({"email": "m@g.es", "country": "spain", "niche": "recovery",
        "amount_lost": "500", "fraud_type": "crypto"}),
        )
        .await;
    lead_in(&app, &r["lead_id"], "held").await;
    b.goto(&url(&format!("/admin/leads/{}", r["lead_id"])))
        .await;
    let text = b.text().await;
    assert!(
        text.contains("filter: amount_lost gte 1000 (lead has 500)"),
        "{text}"
    );
    b.screenshot("lead-kept-out-by-a-filter").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sets_caps_and_a_budget_sees_their_use_and_simulates_a_lead() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = delivering(leadrouter_store::testing::TestDatabase::sqlite(), &[]).await;
    let url = |p: &str| format!("{}{p}", app.base);
    let rx = Receiver::start("127.0.0.1").await;
    rx.otherwise(Reply::Status(200));
    let (s, p) = app
        .post(
            "/api/admin/partners",
            json!({"name": "FX Trading Partners Ltd", "country": "germany", "niche": "forex",
                "webhook_url": rx.url("partner.test", "/in"), "price_per_lead": "10.00",
                "daily_limit": 50, "premium_ratio": 0}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let id = p["id"].as_i64().unwrap();

    b.first_admin(&app.base, "ops@leadbiz.de", "correct horse battery staple")
        .await;
    b.goto(&url(&format!("/admin/partners/{id}/edit"))).await;
    b.fill("Hourly cap", "0").await;
    b.fill("Monthly cap", "400").await;
    b.fill("Daily budget", "20").await;
    b.press("Save Partner").await;
    let text = b.text().await;
    assert!(
        text.contains("Hourly cap: must be a whole number of at least 1"),
        "the summary: {text}"
    );
    assert!(!text.contains("caps.hourly"), "{text}");
    b.screenshot("partner-caps-refused").await;
    b.fill("Hourly cap", "2").await;
    b.press("Save Partner").await;
    assert_eq!(b.path().await, format!("/admin/partners/{id}"));
    let text = b.text().await;
    assert!(
        text.contains("hourly cap 2, monthly cap 400, daily budget 20.00"),
        "{text}"
    );
    let (_, saved) = app.get(&format!("/api/admin/partners/{id}")).await;
    assert_eq!(saved["caps"], json!({"hourly": 2, "monthly": 400}));
    assert_eq!(saved["budget"], json!({"daily": 20.0}));

    // Two leads fill the hour and the day's budget; the page shows both used up.
    let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
    for i in 0..2 {
        let (_, r) = app
            .send_lead(
                &token,
                json!({"email": format!("b{i}@example.de"), "country": "de", "niche": "forex"}),
            )
            .await;
        lead_in(&app, &r["lead_id"], "delivered").await;
    }
    b.goto(&url(&format!("/admin/partners/{id}"))).await;
    let text = b.text().await;
    assert!(text.contains("2/2\nhourly cap: reached"), "{text}");
    assert!(
        text.contains("20.00 of 20.00\ndaily budget: reached"),
        "{text}"
    );
    b.screenshot("partner-caps-in-use").await;
    b.goto(&url("/admin")).await;
    let text = b.text().await;
    assert!(
        text.contains("hourly cap 2/2 (full)"),
        "the overview: {text}"
    );

    // The simulator says where the next lead would go: nowhere, and why.
    b.goto(&url("/admin/simulate")).await;
    b.screenshot("simulate-empty").await;
    b.choose("Country", "Germany").await;
    b.choose("Niche", "Forex").await;
    b.fill("Email", "next@example.de").await;
    b.fill_nth("custom_key", 0, "amount_lost").await;
    b.fill_nth("custom_value", 0, "2500").await;
    b.press("Show where it would go").await;
    let text = b.text().await;
    assert!(text.contains("Would be held"), "{text}");
    assert!(
        text.contains("FX Trading Partners Ltd no hourly cap reached (2/2)"),
        "{text}"
    );
    b.screenshot("simulate-held").await;
    // A lead without e-mail or phone is refused beside its fields, as a source would be.
    b.fill("Email", "").await;
    b.press("Show where it would go").await;
    let text = b.text().await;
    assert!(
        text.contains("give an e-mail address or a phone number"),
        "{text}"
    );
    assert_eq!(rx.requests().len(), 2, "a simulation sends nothing");
    app.stop().await;
}
