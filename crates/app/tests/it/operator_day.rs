//! An operator's day without surprises (the console's smaller promises): risky actions ask
//! first, and "Assign" offers the partners of the lead's own market.

use crate::support::console::Console;
use crate::support::TestApp;
use serde_json::json;

both_backends! {
    async fn assign_offers_the_leads_market_and_rotations_ask_first(db) {
        let app = TestApp::spawn(db).await;
        let mut ids = Vec::new();
        for (name, country) in [("Austria FX", "austria"), ("Berlin FX", "germany"), ("Munich FX", "germany")] {
            let (s, p) = app.post("/api/admin/partners", json!({"name": name, "country": country, "niche": "forex",
                "webhook_url": "https://fxpartners.com/api/leads"})).await;
            assert_eq!(s, 201, "{p}");
            ids.push(p["id"].as_i64().unwrap());
        }
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        // Both German partners paused: the lead is held, and assignable.
        for pid in &ids[1..] {
            assert_eq!(app.post(&format!("/api/admin/partners/{pid}/pause"), json!({})).await.0, 200);
        }
        let (_, r) = app.send_lead(&token, json!({"email": "m@example.de", "country": "de", "niche": "forex"})).await;
        let id = r["lead_id"].as_i64().unwrap();
        app.run_until_idle().await;
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = c.get(&format!("/admin/leads/{id}")).await;
        let options: Vec<String> = page.html()
            .select(&scraper::Selector::parse("select[name=partner_id] option").unwrap())
            .map(|o| o.text().collect())
            .collect();
        assert_eq!(options, vec!["Berlin FX".to_string(), "Munich FX".to_string()], "the lead's market only");
        let partner = c.get(&format!("/admin/partners/{}", ids[1])).await;
        for action in ["rotate-key", "rotate-secret"] {
            let ask = partner.attr(&format!("form[action$='/{action}']"), "data-confirm");
            assert!(ask.is_some_and(|a| a.starts_with("Rotate the") && a.contains('?')), "{action} asks first");
        }
        // A planned rotation keeps the old key 24 hours; the page says until when.
        let csrf = c.csrf().await;
        let r = c.post(&format!("/admin/partners/{}/rotate-key", ids[1]), &[("_csrf", &csrf), ("old_key", "overlap")]).await;
        assert_eq!(r.status, 303);
        let page = c.get(&format!("/admin/partners/{}", ids[1])).await;
        assert!(page.body.contains("keeps working for 24 hours") && page.body.contains("the previous key works until"), "{}", page.body);
        app.stop().await;
    }
}

both_backends! {
    async fn dead_ends_are_pages_with_a_way_back_and_a_refused_form_post_is_a_page_too(db) {
        let app = TestApp::spawn(db).await;
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        for path in ["/admin/leads/99999", "/admin/partners/999", "/admin/anything"] {
            let r = c.get(path).await;
            assert_eq!(r.status, 404, "{path}");
            assert!(r.body.starts_with("<!doctype html>"), "{path}: {}", r.body);
            assert_eq!(r.text("h1").as_deref(), Some("Not found"), "{path}");
            assert_eq!(r.attr("a.button", "href").as_deref(), Some("/admin"), "{path}: a way back");
        }
        // The JSON API keeps its JSON.
        let (s, body) = app.get("/api/admin/leads/99999").await;
        assert_eq!((s, body["success"].as_bool()), (404, Some(false)));
        // A visitor's refused form post: a page naming each field and why, not JSON.
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let r = app.client.post(app.url(&format!("/api/webhook/{token}")))
            .header("accept", "text/html,application/xhtml+xml")
            .form(&[("email", "not-an-address"), ("country", "germany"), ("niche", "forex")])
            .send().await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let page = r.text().await.unwrap();
        assert!(page.contains("Some fields need another look") && page.contains("<strong>email</strong>"), "{page}");
        // A script posting the same form without asking for HTML still gets the JSON shape.
        let r = app.client.post(app.url(&format!("/api/webhook/{token}")))
            .form(&[("email", "not-an-address"), ("country", "germany"), ("niche", "forex")])
            .send().await.unwrap();
        assert_eq!(r.status(), 422);
        let body: serde_json::Value = r.json().await.unwrap();
        assert!(body["error"]["fields"]["email"].is_string());
        app.stop().await;
    }
}

both_backends! {
    async fn the_add_partner_form_shows_every_error_at_once_each_beside_its_field(db) {
        let app = TestApp::spawn(db).await;
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let csrf = c.csrf().await;
        // A missing name, a plain-http webhook, a bearer token left empty, and two days
        // written wrong: one submission, every error.
        let r = c.post("/admin/partners", &[("_csrf", csrf.as_str()), ("name", ""), ("country", "germany"),
            ("niche", "forex"), ("daily_limit", "50"), ("premium_ratio", "70"), ("timezone", "Europe/Berlin"),
            ("webhook_url", "http://fxpartners.com/api/leads"), ("hours_mon", "9-"), ("hours_tue", "09:00-18:00"),
            ("hours_wed", "nine to five"), ("auth_type", "bearer"), ("auth_token", "")]).await;
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.error_beside("Partner Name").is_some(), "name: {}", r.body);
        assert!(r.error_beside("Webhook URL").is_some_and(|e| e.contains("https")), "webhook beside its field");
        assert!(r.body.contains("enter the token"), "the authentication error");
        let wrong: Vec<String> = r.html().select(&scraper::Selector::parse(".hours input.wrong").unwrap())
            .map(|i| i.value().attr("name").unwrap().to_string()).collect();
        assert_eq!(wrong, vec!["hours_wed".to_string()], "only the day written wrong is marked");
        // "9-" is a window with an empty end: the settings' check names Monday.
        let summary: Vec<String> = r.html().select(&scraper::Selector::parse(".error ul.summary a").unwrap())
            .map(|a| a.value().attr("href").unwrap().to_string()).collect();
        for anchor in ["#name", "#webhook_url", "#auth_type", "#hours_0"] {
            assert!(summary.iter().any(|h| h == anchor), "{anchor} in the summary: {summary:?}");
        }
        assert_eq!(app.get("/api/admin/partners").await.1["partners"], json!([]), "nothing saved");
        app.stop().await;
    }
}

both_backends! {
    async fn a_full_type_quota_shows_beside_the_count_where_counts_are_shown(db) {
        let app = TestApp::spawn(db).await;
        // The guide's partner: 50 a day, 70% premium: 15 raw leads a day.
        let (_, p) = app.post("/api/admin/partners", json!({"name": "FX Trading Partners Ltd", "country": "germany",
            "niche": "forex", "daily_limit": 50, "premium_ratio": "70%", "webhook_url": "https://fxpartners.com/api/leads"})).await;
        let pid = p["id"].as_i64().unwrap();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        // Leads that say no type are raw: 16 of them, the last held.
        for i in 0..16 {
            let (s, r) = app.send_lead(&token, json!({"email": format!("q{i}@example.de"), "country": "de", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
        }
        app.run_until_idle().await;
        let (_, pacing) = app.get(&format!("/api/admin/partners/{pid}/pacing")).await;
        assert_eq!((pacing["raw"].as_i64(), pacing["quota_raw"].as_i64()), (Some(15), Some(15)), "{pacing}");
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let overview = c.get("/admin").await;
        assert!(!overview.body.contains("No partner is near its daily limit"), "15/50 is far from the limit, but raw is full");
        assert!(overview.body.contains("raw 15/15 (full)"), "{}", overview.body);
        let list = c.get("/admin/partners").await;
        assert!(list.body.contains("15 / 50") && list.body.contains("premium 0/35 · raw 15/15 (full)"), "{}", list.body);
        let form = c.get("/admin/partners/new").await;
        assert!(form.body.contains("Leads that arrive without a type are raw"));
        app.stop().await;
    }
}

both_backends! {
    async fn deliveries_waiting_for_a_retry_are_listed_with_their_next_try(db) {
        let app = crate::delivery::delivering(db, &[("LEADROUTER_RETRY_SCHEDULE", "1h")]).await;
        let rx = crate::support::receiver::Receiver::start("127.0.0.1").await;
        rx.otherwise(crate::support::receiver::Reply::Status(503));
        crate::delivery::partner(&app, "Slow FX", &rx.url("partner.test", "/in"), json!({})).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        let (_, r) = app.send_lead(&token, json!({"email": "wait@example.de", "country": "de", "niche": "forex"})).await;
        let id = r["lead_id"].as_i64().unwrap();
        app.run_until_idle().await;
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let failed = c.get("/admin/deliveries").await;
        assert!(failed.body.contains("No failed deliveries"), "it has not failed for good");
        let waiting = c.get("/admin/deliveries?status=retrying").await;
        assert_eq!(waiting.status, 200);
        assert!(waiting.body.contains(&format!("#{id}")) && waiting.body.contains("HTTP 503"), "{}", waiting.body);
        assert!(waiting.body.contains("Next try"));
        assert_eq!(c.get("/admin/deliveries?status=nonsense").await.status, 422);
        app.stop().await;
    }
}

both_backends! {
    async fn erase_a_person_has_its_own_page_that_shows_the_result_and_checks_it_afterwards(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        for (email, phone) in [("greta@example.de", "+49 151 23456789"), ("greta@example.de", "+49 151 23456789"), ("other@example.de", "+49 151 99999999")] {
            let (s, r) = app.send_lead(&token, json!({"email": email, "phone": phone, "country": "de", "niche": "forex"})).await;
            assert!(s == 202 || s == 200, "{r}");
        }
        app.run_until_idle().await;
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let csrf = c.csrf().await;
        // Look up: what is held of her.
        let page = c.get("/admin/privacy?email=Greta%40example.de").await;
        assert_eq!(page.status, 200);
        let found = page.text("#lookup").unwrap();
        assert!(found.contains("lead(s)") && found.contains("still carry"), "{found}");
        // A bad e-mail: said beside the field.
        let page = c.get("/admin/privacy?email=not-an-email").await;
        assert_eq!(page.status, 422);
        assert!(page.error_beside("Email").is_some(), "{}", page.body);
        // Erase by phone, in national spelling with the country: the result, then the check.
        let r = c.post("/admin/privacy/erase", &[("_csrf", &csrf), ("phone", "0151 23456789"), ("country", "germany")]).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let done = r.text("p.notice").unwrap();
        assert!(done.contains("Erased") && done.contains("lead(s)"), "{done}");
        assert!(r.text("#lookup").unwrap().contains("No lead carries this e-mail or phone any more"), "{}", r.body);
        // Afterwards, by e-mail too: erased, nothing left; the other person untouched.
        let page = c.get("/admin/privacy?email=greta%40example.de").await;
        assert!(page.text("#lookup").unwrap().contains("Erased."), "{}", page.body);
        let page = c.get("/admin/privacy?email=other%40example.de").await;
        assert!(page.text("#lookup").unwrap().contains("still carry"), "{}", page.body);
        // Nothing given: said, nothing erased.
        let r = c.post("/admin/privacy/erase", &[("_csrf", &csrf)]).await;
        assert_eq!(r.status, 422);
        app.stop().await;
    }
}

both_backends! {
    async fn the_partner_page_shows_the_projected_total_and_when_the_cap_is_reached(db) {
        let app = crate::delivery::delivering(db, &[]).await;
        let rx = crate::support::receiver::Receiver::start("127.0.0.1").await;
        let p = crate::delivery::partner(&app, "Pace FX", &rx.url("partner.test", "/in"), json!({"daily_limit": 10})).await;
        let pid = p["id"].as_i64().unwrap();
        let (_, token) = app.source(json!({"name": "S", "kind": "webhook"})).await;
        for i in 0..3 {
            app.send_lead(&token, json!({"email": format!("p{i}@example.de"), "country": "de", "niche": "forex"})).await;
        }
        app.run_until_idle().await;
        let (_, pacing) = app.get(&format!("/api/admin/partners/{pid}/pacing")).await;
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;
        let page = c.get(&format!("/admin/partners/{pid}")).await;
        let card = page.text("#pacing").expect("a pacing card");
        assert!(card.contains(&format!("{} / 10", pacing["projected_total"])), "the API's figure: {card} vs {pacing}");
        let said = match pacing["cap_reached_at"].as_str() {
            Some(_) => "the limit is reached at",
            None => "not reached today",
        };
        assert!(card.contains(said), "{card} vs {pacing}");
        app.stop().await;
    }
}

both_backends! {
    async fn the_walks_smaller_findings_read_as_an_operator_expects(db) {
        let app = crate::delivery::delivering(db, &[]).await;
        let rx = crate::support::receiver::Receiver::start("127.0.0.1").await;
        crate::delivery::partner(&app, "FX Trading Partners Ltd", &rx.url("partner.test", "/in"), json!({"price_per_lead": "12.50"})).await;
        let (created, token) = app.source(json!({"name": "Facebook Berlin", "kind": "webhook"})).await;
        let sid = created;
        // The guide's payload, with its own lead_id and timestamp.
        let (s, r) = app.send_lead(&token, json!({"lead_id": "12345", "first_name": "John", "last_name": "Smith",
            "email": "john.smith@email.com", "phone": "+491234567890", "country": "germany", "niche": "forex",
            "lead_type": "premium", "source": "facebook_ads", "timestamp": "2025-09-23T22:55:00Z"})).await;
        assert_eq!(s, 202, "{r}");
        let id = r["lead_id"].as_i64().unwrap();
        app.run_until_idle().await;
        let mut c = Console::new(&app);
        c.first_run("ops@leadbiz.de", "correct horse battery staple").await;

        // A webhook source's posting instructions, any time (not only at creation).
        let source = c.get(&format!("/admin/sources/{sid}")).await;
        let posting = source.text("#posting").map(|_| source.body.clone()).expect("posting instructions");
        assert!(posting.contains("/api/webhook/") && posting.contains("curl") && posting.contains("Idempotency-Key"), "{posting}");

        // The lead page: the source by name (a link), the source's own id said as such,
        // partners by name in the history, the price with its currency on the partner.
        let lead = c.get(&format!("/admin/leads/{id}")).await;
        assert_eq!(lead.attr(&format!("a[href='/admin/sources/{sid}']"), "href").as_deref(), Some(&*format!("/admin/sources/{sid}")), "{}", lead.body);
        assert!(lead.body.contains("Facebook Berlin") && lead.body.contains("lead id (lead_id)") && lead.body.contains("Sent by the source at (timestamp)"), "{}", lead.body);
        let history: Vec<String> = lead.html().select(&scraper::Selector::parse("h2 + table tbody tr, table tbody tr").unwrap())
            .map(|r| r.text().collect::<String>()).filter(|t| t.contains("assigned")).collect();
        assert!(history.iter().any(|t| t.contains("FX Trading Partners Ltd")) && !history.iter().any(|t| t.contains("partner 1")), "{history:?}");
        let pid = app.get("/api/admin/partners").await.1["partners"][0]["id"].as_i64().unwrap();
        assert!(c.get(&format!("/admin/partners/{pid}")).await.body.contains("12.50 EUR"), "money with its currency");

        // The leads list: Country and Niche are selects of the catalog.
        let leads = c.get("/admin/leads").await;
        for name in ["country", "niche"] {
            assert!(leads.attr(&format!("select[name={name}] option[value='']"), "value").is_some(), "{name} is a select");
        }
        assert!(leads.attr("select[name=country] option[value=germany]", "value").is_some());

        // Add Partner: no country chosen for the operator; placeholders say the defaults.
        let form = c.get("/admin/partners/new").await;
        assert!(form.attr("select[name=country] option[selected]", "value").as_deref() == Some(""), "nothing preselected");
        assert_eq!(form.attr("input[name=daily_limit]", "placeholder").as_deref(), Some("50 (the default)"));
        assert_eq!(form.attr("input[name=premium_ratio]", "placeholder").as_deref(), Some("50% (the default)"));

        // Held backlog rows link to their leads; the oldest waiting lead is "… ago".
        assert_eq!(app.post(&format!("/api/admin/partners/{pid}/pause"), json!({})).await.0, 200);
        app.send_lead(&token, json!({"email": "held@example.de", "country": "de", "niche": "forex"})).await;
        app.run_until_idle().await;
        let overview = c.get("/admin").await;
        let link = overview.attr("a[href*='held_reason']", "href").expect("a held-backlog row links to its leads");
        let held = c.get(&link).await;
        assert!(held.body.contains("held@example.de") && !held.body.contains("john.smith@email.com"), "{}", held.body);
        assert!(overview.body.contains(" ago") || overview.body.contains("just now"), "{}", overview.body);
        app.stop().await;
    }
}
