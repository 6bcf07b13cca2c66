//! The operators' search finds a lead by any part of its name, e-mail or phone, in any
//! case and with any letters (ü, Ø), takes what is typed literally (`%` and `_` are
//! characters, not wildcards), no longer finds an erased person, and pages newest first
//! through a word thousands of leads share.

use crate::support::TestApp;
use serde_json::json;

fn ids(v: &serde_json::Value) -> Vec<i64> {
    v["leads"]
        .as_array()
        .unwrap_or_else(|| panic!("{v}"))
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect()
}

async fn found(app: &TestApp, q: &str) -> Vec<i64> {
    let query = serde_urlencoded::to_string([("q", q)]).unwrap();
    let (s, v) = app.get(&format!("/api/admin/leads?{query}")).await;
    assert_eq!(s, 200, "{v}");
    ids(&v)
}

both_backends! {
    async fn a_lead_is_found_by_any_part_of_its_name_email_or_phone_in_any_case(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let mut id = Vec::new();
        for lead in [
            json!({"first_name": "Jürgen", "last_name": "MÜLLER", "email": "j.mueller@firma-nord.de",
                   "phone": "+49 151 23456789", "country": "de", "niche": "forex"}),
            json!({"first_name": "Søren", "last_name": "Ødegård", "email": "soren@fjord.no",
                   "country": "norway", "niche": "forex"}),
            json!({"first_name": "Anna", "last_name": "Smith", "email": "anna.smith@x.co.uk",
                   "country": "uk", "niche": "forex"}),
        ] {
            let (s, r) = app.send_lead(&token, lead).await;
            assert_eq!(s, 202, "{r}");
            id.push(r["lead_id"].as_i64().unwrap());
        }
        assert_eq!(found(&app, "müller").await, [id[0]]);
        assert_eq!(found(&app, "jürgen Müller").await, [id[0]], "first and last name together");
        assert_eq!(found(&app, "FIRMA-NORD").await, [id[0]], "part of the e-mail");
        assert_eq!(found(&app, "23456789").await, [id[0]], "part of the phone");
        assert_eq!(found(&app, "ødegå").await, [id[1]]);
        assert_eq!(found(&app, "smith").await, [id[2]]);
        // What is typed is looked for as it is: "a_s" would match "Anna Smith" as a pattern.
        assert_eq!(found(&app, "a_s").await, Vec::<i64>::new());
        assert_eq!(found(&app, "%").await, Vec::<i64>::new());
        assert_eq!(found(&app, "%%%").await, Vec::<i64>::new());
        assert_eq!(found(&app, "nobody-at-all").await, Vec::<i64>::new());

        let (s, r) = app.post("/api/admin/privacy/erase", json!({"email": "j.mueller@firma-nord.de"})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(found(&app, "müller").await, Vec::<i64>::new(), "an erased person is not found");
        assert_eq!(found(&app, "firma-nord").await, Vec::<i64>::new());
        assert_eq!(found(&app, "ødegård").await, [id[1]]);
        app.stop().await;
    }
}

both_backends! {
    async fn a_word_thousands_of_leads_share_pages_newest_first(db) {
        let app = TestApp::spawn(db).await;
        // 2,100 leads of history, each "Seed<i> Historic", seed<i>@example.com.
        let now = chrono::Utc::now().timestamp_millis();
        let seeded = app.store.seed_history(2_100, 1, now).await.unwrap();
        let first = seeded.first_lead_id;
        let (_, page) = app.get("/api/admin/leads?q=historic&limit=100").await;
        let want: Vec<i64> = (first + 2_000..first + 2_100).rev().collect();
        assert_eq!(ids(&page), want);
        let (_, next) = app
            .get(&format!("/api/admin/leads?q=historic&limit=100&before={}", page["next_before"]))
            .await;
        let want: Vec<i64> = (first + 1_900..first + 2_000).rev().collect();
        assert_eq!(ids(&next), want);
        // A rarer word among them: through the index, with the other filters.
        assert_eq!(found(&app, "seed2077@").await, [first + 2_077]);
        let (_, v) = app.get("/api/admin/leads?q=seed207&limit=100").await;
        let mut want: Vec<i64> = (0..10).map(|i| first + 2_070 + i).collect();
        want.push(first + 207);
        want.sort_unstable_by(|a, b| b.cmp(a));
        assert_eq!(ids(&v), want);
        app.stop().await;
    }
}
