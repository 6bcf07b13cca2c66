//! Leads arriving from sources: `POST /api/webhook/{token}`, on both backends.

use crate::support::TestApp;
use serde_json::{json, Value};

fn webhook_source() -> Value {
    json!({"name": "Affiliate API", "kind": "webhook"})
}

both_backends! {
    async fn a_json_lead_is_normalized_stored_and_queued(db) {
        let app = TestApp::spawn(db).await;
        let (source_id, token) = app.source(json!({"name": "FB DE", "kind": "webhook", "source_label": "facebook_ads"})).await;
        let (status, r) = app
            .send_lead(&token, json!({
                "firstName": "Anna", "surname": "Berg", "E-Mail": "  Anna.Berg@Example.DE ",
                "mobile": "0151 12345678", "country": "Deutschland", "niche": "forex",
                "lead_type": "premium", "amount_lost": "25000", "utm_source": "fb"
            }))
            .await;
        assert_eq!(status, 202, "{r}");
        assert_eq!(r["success"], true);
        assert_eq!(r["status"], "queued");
        assert_eq!(r["message"], "Lead received and queued for distribution");
        let id = r["lead_id"].as_i64().unwrap();

        let (status, lead) = app.get(&format!("/api/admin/leads/{id}")).await;
        assert_eq!(status, 200);
        // Queued, or already held by the router (this test has no partners).
        assert!(lead["status"] == "queued" || lead["status"] == "held", "{lead}");
        assert_eq!(lead["first_name"], "Anna");
        assert_eq!(lead["last_name"], "Berg");
        assert_eq!(lead["name"], "Anna Berg");
        assert_eq!(lead["email"], "anna.berg@example.de");
        assert_eq!(lead["phone"], "+4915112345678");
        assert_eq!(lead["country"], "germany");
        assert_eq!(lead["lead_type"], "premium");
        assert_eq!(lead["source"], "facebook_ads");
        assert_eq!(lead["source_id"], source_id);
        assert_eq!(lead["custom_fields"], json!({"amount_lost": "25000", "utm_source": "fb"}));
        assert!(lead["received_at"].as_str().unwrap().ends_with('Z'));
        app.stop().await;
    }
}

both_backends! {
    async fn national_phone_numbers_of_all_seven_markets_are_stored_in_e164(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(webhook_source()).await;
        for (country, typed, e164) in [
            ("germany", "0151 12345678", "+4915112345678"),
            ("austria", "0664 1234567", "+436641234567"),
            ("spain", "612 34 56 78", "+34612345678"),
            ("canada", "(416) 555-0123", "+14165550123"),
            ("italy", "312 345 6789", "+393123456789"),
            ("uk", "07911 123456", "+447911123456"),
            ("norway", "412 34 567", "+4741234567"),
        ] {
            let (status, r) = app.send_lead(&token, json!({"phone": typed, "country": country, "niche": "forex"})).await;
            assert_eq!(status, 202, "{country}: {r}");
            let (_, lead) = app.get(&format!("/api/admin/leads/{}", r["lead_id"])).await;
            assert_eq!(lead["phone"], e164, "{country} {typed}");
        }
        app.stop().await;
    }
}

both_backends! {
    async fn source_defaults_fill_in_and_form_posts_work(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app
            .source(json!({"name": "AT landing", "kind": "landing_page", "default_country": "AT",
                "default_niche": "recovery", "default_lead_type": "premium",
                "redirect_url": "https://example.at/danke"}))
            .await;
        // A plain HTML form post: 303 to the thank-you page.
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = client
            .post(app.url(&format!("/api/webhook/{token}")))
            .form(&[("full_name", "Lena Huber"), ("phone", "0664 1234567"), ("fraud_type", "crypto")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "https://example.at/danke");
        let (_, list) = app.get("/api/admin/leads").await;
        let lead = &list["leads"][0];
        assert_eq!((lead["country"].as_str(), lead["niche"].as_str()), (Some("austria"), Some("recovery")));
        assert_eq!(lead["lead_type"], "premium");
        assert_eq!(lead["phone"], "+436641234567");
        assert_eq!((lead["first_name"].as_str(), lead["last_name"].as_str()), (Some("Lena"), Some("Huber")));
        assert_eq!(lead["custom_fields"], json!({"fraud_type": "crypto"}));
        // The same source posting JSON gets the JSON answer.
        let (status, r) = app.send_lead(&token, json!({"email": "x@example.at"})).await;
        assert_eq!((status, r["status"].as_str()), (202, Some("queued")));
        // A form post to a plain webhook source is answered in JSON too.
        let (_, api_token) = app.source(webhook_source()).await;
        let r = client
            .post(app.url(&format!("/api/webhook/{api_token}")))
            .form(&[("email", "f@example.es"), ("country", "ES"), ("niche", "forex")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 202);
        app.stop().await;
    }
}

both_backends! {
    async fn every_bad_submission_is_answered_and_recorded(db) {
        let app = TestApp::spawn(db).await;
        let (source_id, token) = app.source(webhook_source()).await;
        let cases = [
            (json!({"email": "a@b.com"}), vec!["country", "niche"]),
            (json!({"country": "de", "niche": "forex", "first_name": "X"}), vec!["email", "phone"]),
            (json!({"email": "nope", "phone": "12", "country": "de", "niche": "forex"}), vec!["email", "phone"]),
            (json!({"email": "a@b.com", "country": "atlantis", "niche": "forex"}), vec!["country"]),
            (json!({"email": "a@b.com", "country": "de", "niche": "crypto", "type": "gold"}), vec!["niche", "type"]),
        ];
        for (body, fields) in &cases {
            let (status, r) = app.send_lead(&token, body.clone()).await;
            assert_eq!(status, 422, "{body}: {r}");
            assert_eq!(r["error"]["code"], "validation_failed");
            let got: Vec<&String> = r["error"]["fields"].as_object().unwrap().keys().collect();
            assert_eq!(got, *fields, "{body}");
        }
        let r = app.client.post(app.url(&format!("/api/webhook/{token}"))).header("content-type", "text/plain").body("hi").send().await.unwrap();
        assert_eq!(r.status(), 415);
        let r = app.client.post(app.url(&format!("/api/webhook/{token}"))).header("content-type", "application/json").body("{\"email\":").send().await.unwrap();
        assert_eq!(r.status(), 422);
        let huge = json!({"email": "a@b.com", "country": "de", "niche": "forex", "notes": "x".repeat(70_000)});
        assert_eq!(app.send_lead(&token, huge).await.0, 413);

        // Nothing was stored as a lead, and every refusal is on record with its reason.
        assert_eq!(app.get("/api/admin/leads").await.1["leads"], json!([]));
        let (_, rejected) = app.get("/api/admin/rejected-submissions").await;
        let rejected = rejected["rejected_submissions"].as_array().unwrap();
        assert_eq!(rejected.len(), cases.len() + 3);
        assert!(rejected.iter().all(|r| r["source_id"] == source_id));
        let newest_validation = &rejected[3];
        assert_eq!(newest_validation["reason"]["niche"].as_str().map(|s| s.starts_with("unknown niche")), Some(true));
        assert!(newest_validation["body"].as_str().unwrap().contains("gold"), "the body is kept");
        app.stop().await;
    }
}

both_backends! {
    async fn unknown_and_disabled_tokens_are_refused(db) {
        let app = TestApp::spawn(db).await;
        let lead = json!({"email": "a@b.com", "country": "de", "niche": "forex"});
        let (status, r) = app.send_lead(&"0".repeat(64), lead.clone()).await;
        assert_eq!((status, r["error"]["code"].as_str()), (401, Some("unauthorized")));
        let (id, token) = app.source(webhook_source()).await;
        assert_eq!(app.patch(&format!("/api/admin/sources/{id}"), json!({"status": "disabled"})).await.0, 200);
        assert_eq!(app.send_lead(&token, lead).await.0, 401);
        app.stop().await;
    }
}

both_backends! {
    async fn concurrent_repeats_of_one_lead_create_exactly_one(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(webhook_source()).await;
        let lead = json!({"external_id": "aff-778", "email": "same@example.com", "country": "de", "niche": "forex"});
        let sends = (0..25).map(|_| app.send_lead(&token, lead.clone()));
        let answers = futures_join_all(sends).await;
        let ids: std::collections::BTreeSet<i64> = answers.iter().map(|(_, r)| r["lead_id"].as_i64().unwrap()).collect();
        assert_eq!(ids.len(), 1, "{answers:?}");
        assert_eq!(answers.iter().filter(|(s, _)| *s == 202).count(), 1, "one creation");
        // Repeats answer with the lead's current status: queued, or held once the router (with
        // no partner to offer it) has looked at it.
        assert!(answers
            .iter()
            .filter(|(s, _)| *s != 202)
            .all(|(s, r)| *s == 200 && (r["status"] == "queued" || r["status"] == "held")));

        // The Idempotency-Key header works the same way.
        let key_lead = json!({"email": "other@example.com", "country": "de", "niche": "forex"});
        let sends = (0..10).map(|_| {
            app.client
                .post(app.url(&format!("/api/webhook/{token}")))
                .header("Idempotency-Key", "req-42")
                .json(&key_lead)
                .send()
        });
        let statuses: Vec<u16> = futures_join_all(sends).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 1, "{statuses:?}");
        assert_eq!(app.get("/api/admin/leads").await.1["leads"].as_array().unwrap().len(), 2);
        app.stop().await;
    }
}

both_backends! {
    async fn a_repeat_of_an_email_or_phone_in_the_same_niche_is_a_duplicate(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(webhook_source()).await;
        let (s1, first) = app.send_lead(&token, json!({"email": "dup@example.com", "country": "de", "niche": "forex"})).await;
        assert_eq!(s1, 202);
        let (s2, second) = app.send_lead(&token, json!({"email": "DUP@example.com", "phone": "0151 12345678", "country": "de", "niche": "forex"})).await;
        assert_eq!((s2, second["status"].as_str()), (200, Some("duplicate")), "{second}");
        assert_eq!(second["duplicate_of"], first["lead_id"]);
        let (_, third) = app.send_lead(&token, json!({"phone": "+49 151 12345678", "country": "at", "niche": "forex"})).await;
        assert_eq!(third["status"], "queued", "the second was a duplicate, so its phone matches nothing");
        let (_, fourth) = app.send_lead(&token, json!({"phone": "0151 12345678", "country": "de", "niche": "forex"})).await;
        assert_eq!((fourth["status"].as_str(), &fourth["duplicate_of"]), (Some("duplicate"), &third["lead_id"]));
        let (s, other_niche) = app.send_lead(&token, json!({"email": "dup@example.com", "country": "de", "niche": "recovery"})).await;
        assert_eq!((s, other_niche["status"].as_str()), (202, Some("queued")), "another niche is another market");
        let (_, lead) = app.get(&format!("/api/admin/leads/{}", second["lead_id"])).await;
        assert_eq!(lead["status"], "duplicate");
        assert_eq!(lead["duplicate_of"], first["lead_id"]);
        app.stop().await;
    }
}

both_backends! {
    async fn a_dedupe_window_of_zero_turns_dedupe_off(db) {
        let app = TestApp::spawn_with(db, &[("LEADROUTER_DEDUPE_WINDOW", "0")]).await;
        let (_, token) = app.source(webhook_source()).await;
        let lead = json!({"email": "dup@example.com", "country": "de", "niche": "forex"});
        assert_eq!(app.send_lead(&token, lead.clone()).await.0, 202);
        assert_eq!(app.send_lead(&token, lead).await.0, 202);
        app.stop().await;
    }
}

both_backends! {
    async fn leads_are_listed_newest_first_with_filters(db) {
        let app = TestApp::spawn(db).await;
        let (_, token) = app.source(webhook_source()).await;
        for (email, country) in [("a@x.com", "de"), ("b@x.com", "es"), ("c@y.com", "de")] {
            assert_eq!(app.send_lead(&token, json!({"email": email, "first_name": "Zoe", "country": country, "niche": "forex"})).await.0, 202);
        }
        let emails = |v: Value| -> Vec<String> {
            v["leads"].as_array().unwrap().iter().map(|l| l["email"].as_str().unwrap().to_string()).collect()
        };
        assert_eq!(emails(app.get("/api/admin/leads").await.1), ["c@y.com", "b@x.com", "a@x.com"]);
        assert_eq!(emails(app.get("/api/admin/leads?country=Germany").await.1), ["c@y.com", "a@x.com"]);
        assert_eq!(emails(app.get("/api/admin/leads?q=X.COM").await.1), ["b@x.com", "a@x.com"]);
        app.after_idle("routed (held: no partners)", || async {
            (app.store.lead_status_counts().await.unwrap().get("held") == Some(&3)).then_some(())
        })
        .await;
        assert_eq!(emails(app.get("/api/admin/leads?q=zoe&status=held").await.1).len(), 3);
        assert_eq!(emails(app.get("/api/admin/leads?q=zoe&status=queued").await.1).len(), 0);
        let (_, page) = app.get("/api/admin/leads?limit=2").await;
        assert_eq!(emails(page.clone()).len(), 2);
        let (_, rest) = app.get(&format!("/api/admin/leads?limit=2&before={}", page["next_before"])).await;
        assert_eq!(emails(rest), ["a@x.com"]);
        assert_eq!(app.get("/api/admin/leads?status=lost").await.0, 422);
        app.stop().await;
    }
}

/// Polls all the requests at once, so they really overlap at the server.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    futures::future::join_all(futs).await
}
