//! Partner replies (API.md "Partner replies — the `response` setting"): a broker CRM that
//! answers `200` with its verdict in the body is read by its rules, on both backends.

use crate::delivery::{delivering, lead_in, partner};
use crate::support::receiver::{Receiver, Reply};
use crate::support::TestApp;
use serde_json::{json, Value};

/// The rules of API.md's example.
fn broker_rules() -> Value {
    json!({
        "rules": [
            {"if": {"path": "success", "equals": false}, "then": "rejected"},
            {"if": {"path": "error", "contains": "exist"}, "then": "duplicate"},
            {"if": {"status": [409]}, "then": "duplicate"},
            {"if": {"body_contains": "try later"}, "then": "retry"}
        ],
        "partner_lead_id": "data.id",
        "redirect_url": "data.autologin_url",
        "reason": "message"
    })
}

/// A person of their own: the e-mail given, a phone number made from it (leads of one
/// person would be held as duplicates of each other).
fn person(email: &str) -> Value {
    let n: u32 = email.bytes().map(u32::from).sum();
    json!({"name": "Anna Berg", "email": email, "phone": format!("+49 1512 34{:05}", n),
           "country": "germany", "niche": "forex"})
}

async fn send(app: &TestApp, token: &str, lead: Value) -> Value {
    let (status, r) = app.send_lead(token, lead).await;
    assert_eq!(status, 202, "{r}");
    r["lead_id"].clone()
}

/// A partner that takes everything, already given one lead, so that a partner added after
/// it (with a count of 0) is offered the next lead first.
async fn fallback_with_one_lead(app: &TestApp, token: &str) -> (Receiver, Value) {
    let rx = Receiver::start("127.0.0.1").await;
    rx.otherwise(Reply::Status(200));
    let p = partner(app, "Fallback", &rx.url("partner.test", "/in"), json!({})).await;
    let first = send(app, token, person("first@example.de")).await;
    lead_in(app, &first, "delivered").await;
    (rx, p)
}

fn delivery_to<'a>(lead: &'a Value, partner: &Value) -> &'a Value {
    lead["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["partner_id"] == partner["id"])
        .unwrap_or_else(|| panic!("no delivery to partner {}: {lead}", partner["id"]))
}

both_backends! {
    async fn a_200_that_says_no_fails_over_with_the_partners_reason(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (fallback_rx, fallback) = fallback_with_one_lead(&app, &token).await;
        let broker_rx = Receiver::start("127.0.0.1").await;
        broker_rx.otherwise(Reply::Body(200, r#"{"success": false, "message": "country not allowed"}"#.into()));
        let broker = partner(&app, "Broker CRM", &broker_rx.url("second.test", "/api"),
            json!({"response": broker_rules()})).await;
        assert_eq!(broker["response"], broker_rules(), "the setting reads back as written");
        let id = send(&app, &token, person("anna@example.de")).await;
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(lead["partner_id"], fallback["id"], "it failed over: {lead}");
        assert_eq!(broker_rx.requests().len(), 1, "no retry of a refusal");
        assert_eq!(fallback_rx.requests().len(), 2);
        let refused = delivery_to(&lead, &broker);
        assert_eq!(refused["status"], "rejected");
        assert_eq!(refused["reason"], "country not allowed");
        let attempt = &refused["attempts"][0];
        assert_eq!((attempt["status_code"].as_i64(), attempt["outcome"].as_str()), (Some(200), Some("rejected")));
        assert_eq!(attempt["error"], "country not allowed", "the reason is the attempt's");
        // Its slot is given back.
        let (_, b) = app.get(&format!("/api/admin/partners/{}", broker["id"])).await;
        assert_eq!(b["today"]["total"], 0, "{b}");
        // A test lead says what its answer means under the rules.
        let (s, t) = app.post(&format!("/api/admin/partners/{}/test", broker["id"]), json!({})).await;
        assert_eq!(s, 200, "{t}");
        assert_eq!((t["attempt"]["outcome"].as_str(), t["attempt"]["reason"].as_str()),
            (Some("rejected"), Some("country not allowed")), "{t}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_duplicate_answer_gives_the_slot_back_and_fails_over(db) {
        let app = delivering(db, &[("LEADROUTER_METRICS_PUBLIC", "1")]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (_, fallback) = fallback_with_one_lead(&app, &token).await;
        let broker_rx = Receiver::start("127.0.0.1").await;
        broker_rx.otherwise(Reply::Body(200, r#"{"success": true, "error": "Email already EXISTS", "message": "known client"}"#.into()));
        let broker = partner(&app, "Broker CRM", &broker_rx.url("second.test", "/api"),
            json!({"response": {"rules": [{"if": {"path": "error", "contains": "exist"}, "then": "duplicate"}],
                   "reason": "message"}})).await;
        let id = send(&app, &token, person("anna@example.de")).await;
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(lead["partner_id"], fallback["id"]);
        let dup = delivery_to(&lead, &broker);
        assert_eq!((dup["status"].as_str(), dup["reason"].as_str()), (Some("duplicate"), Some("known client")));
        assert_eq!(dup["attempts"][0]["outcome"], "duplicate");
        let (_, b) = app.get(&format!("/api/admin/partners/{}", broker["id"])).await;
        assert_eq!(b["today"]["total"], 0, "a duplicate does not count against the cap: {b}");
        // A 409 read by a status rule is a duplicate too.
        broker_rx.otherwise(Reply::Status(409));
        let (s, _) = app.patch(&format!("/api/admin/partners/{}", broker["id"]),
            json!({"response": {"rules": [{"if": {"status": [409]}, "then": "duplicate"}]}})).await;
        assert_eq!(s, 200);
        let id = send(&app, &token, person("otto@example.de")).await;
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(delivery_to(&lead, &broker)["status"], "duplicate", "{lead}");
        // Counted apart: in analytics per partner, and in /metrics.
        let (_, a) = app.get("/api/admin/analytics?group_by=partner").await;
        let row = a["rows"].as_array().unwrap().iter().find(|r| r["key"].as_str() == Some(broker["id"].to_string().as_str())).expect("the broker's row");
        assert_eq!((row["duplicates"].as_i64(), row["rejected"].as_i64(), row["delivered"].as_i64()), (Some(2), Some(0), Some(0)), "{row}");
        assert_eq!(a["totals"]["duplicates"], 2);
        let metrics = reqwest::get(app.url("/metrics")).await.unwrap().text().await.unwrap();
        assert!(metrics.lines().any(|l| l.starts_with("leadrouter_delivery_attempts_total")
            && l.contains("outcome=\"duplicate\"") && l.contains(&format!("partner_id=\"{}\"", broker["id"])) && l.ends_with(" 2")),
            "{metrics}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_200_asking_to_try_later_is_retried_and_the_accepting_answer_gives_its_id_and_autologin(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.script(vec![
            Reply::Body(200, "Queue full, please try later".into()),
            Reply::Body(200, json!({"success": true, "data": {"id": 4711, "autologin_url": "https://crm.example.com/autologin?t=abc"}}).to_string()),
        ]);
        let broker = partner(&app, "Broker CRM", &rx.url("second.test", "/api"),
            json!({"response": broker_rules()})).await;
        let id = send(&app, &token, person("anna@example.de")).await;
        let lead = lead_in(&app, &id, "delivered").await;
        let d = delivery_to(&lead, &broker);
        let outcomes: Vec<&str> = d["attempts"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
        assert_eq!(outcomes, ["retry", "delivered"], "{d}");
        assert!(d["attempts"][0]["error"].as_str().unwrap().contains("retry"), "{d}");
        assert_eq!(d["partner_lead_id"], "4711", "a numeric id kept as text");
        assert_eq!(d["redirect_url"], "https://crm.example.com/autologin?t=abc");
        // The evidence export carries them too.
        let (_, evidence) = app.get(&format!("/api/admin/leads/{id}/evidence")).await;
        assert_eq!(evidence["deliveries"][0]["partner_lead_id"], "4711", "{evidence}");
        // The broker reports a conversion by its own id.
        let convert = |body: Value| {
            let req = app.client.post(app.url(&format!("/api/conversion/{}", broker["id"])))
                .header("x-api-key", broker["api_key"].as_str().unwrap()).json(&body);
            async move {
                let r = req.send().await.unwrap();
                (r.status().as_u16(), r.json::<Value>().await.unwrap())
            }
        };
        let (s, r) = convert(json!({"partner_lead_id": 4711, "conversion_type": "deposit",
            "conversion_value": 250, "external_transaction_id": "T-1"})).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["lead_id"], id, "{r}");
        let (s, r) = convert(json!({"partner_lead_id": "4712", "conversion_type": "deposit",
            "conversion_value": 250, "external_transaction_id": "T-2"})).await;
        assert_eq!(s, 404, "an id it never gave: {r}");
        let (s, r) = convert(json!({"conversion_type": "deposit", "conversion_value": 250,
            "external_transaction_id": "T-3"})).await;
        assert_eq!(s, 422, "{r}");
        assert!(r["error"]["fields"]["lead_id"].as_str().unwrap().contains("partner_lead_id"), "{r}");
        app.stop().await;
    }
}

both_backends! {
    async fn an_autologin_that_is_not_https_is_not_kept_and_no_rule_leaves_it_to_the_status(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Body(201, json!({"success": true, "data": {"id": "B-9", "autologin_url": "http://crm.example.com/al"}}).to_string()));
        let broker = partner(&app, "Broker CRM", &rx.url("second.test", "/api"),
            json!({"response": broker_rules()})).await;
        let id = send(&app, &token, person("anna@example.de")).await;
        let lead = lead_in(&app, &id, "delivered").await;
        let d = delivery_to(&lead, &broker);
        assert_eq!(d["partner_lead_id"], "B-9");
        assert_eq!(d["redirect_url"], Value::Null, "an http:// autologin is not kept: {d}");
        // The explorer finds the lead by the partner's id.
        let (_, found) = app.get("/api/admin/leads?q=B-9").await;
        let ids: Vec<&Value> = found["leads"].as_array().unwrap().iter().map(|l| &l["id"]).collect();
        assert_eq!(ids, [&id], "{found}");
        let (_, none) = app.get("/api/admin/leads?q=B-10").await;
        assert_eq!(none["leads"].as_array().map(Vec::len), Some(0));
        assert_eq!(d["attempts"][0]["error"], Value::Null);
        app.stop().await;
    }
}

both_backends! {
    async fn invalid_response_rules_are_refused_naming_each_rule(db) {
        let app = TestApp::spawn(db).await;
        let (s, body) = app.post("/api/admin/partners", json!({"name": "Broker", "country": "germany",
            "niche": "forex", "webhook_url": "https://broker.example.com/api",
            "response": {"rules": [
                {"if": {"status": [409]}, "then": "duplicate"},
                {"if": {"path": "success", "equals": false, "contains": "x"}, "then": "rejected"},
                {"if": {"path": "ok", "equals": true}, "then": "accepted"}
            ], "partner_lead_id": "data..id"}})).await;
        assert_eq!(s, 422, "{body}");
        let fields = &body["error"]["fields"];
        assert!(fields["response.rules[1].if"].as_str().unwrap().contains("equals and contains"), "{body}");
        assert!(fields["response.rules[2].then"].as_str().unwrap().contains("delivered, rejected, duplicate or retry"), "{body}");
        assert!(fields["response.partner_lead_id"].is_string(), "{body}");
        assert!(fields.get("response.rules[0].if").is_none());
        // Nothing was created.
        let (_, list) = app.get("/api/admin/partners").await;
        assert_eq!(list["partners"].as_array().map(Vec::len), Some(0), "{list}");
        app.stop().await;
    }
}

/// Sends a raw upload to a partner's known contacts.
async fn upload(app: &TestApp, partner: &Value, content_type: &str, body: String) -> (u16, Value) {
    let r = app
        .client
        .post(app.url(&format!(
            "/api/admin/partners/{}/known-contacts",
            partner["id"]
        )))
        .header("authorization", format!("Bearer {}", app.admin_token))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap())
}

both_backends! {
    async fn a_partner_that_has_the_person_is_not_offered_the_lead_and_keeps_no_contact_in_clear(db) {
        let url = db.url.clone();
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (_, fallback) = fallback_with_one_lead(&app, &token).await;
        let broker_rx = Receiver::start("127.0.0.1").await;
        broker_rx.otherwise(Reply::Status(200));
        let broker = partner(&app, "Broker CRM", &broker_rx.url("second.test", "/api"), json!({})).await;
        // Its clients: a CSV in clear, and JSON hashes (one of a phone in national format).
        let csv = "Name,EMAIL,Phone\nAnna,anna@example.de,\nKarl,,0151 99887766\nBad,not-an-address,\n";
        let (s, added) = upload(&app, &broker, "text/csv", csv.into()).await;
        assert_eq!(s, 200, "{added}");
        assert_eq!((added["added"].as_i64(), added["total"].as_i64(), added["skipped"].as_i64()), (Some(2), Some(2), Some(1)), "{added}");
        assert!(added["problems"][0].as_str().unwrap().contains("email[4]"), "{added}");
        let hashed = |v: &str| leadrouter_core::known::sha256_hex(v);
        let (s, added) = upload(&app, &broker, "application/json", json!({
            "email_sha256": [hashed("client.one@broker.example").to_uppercase(), hashed("anna@example.de")],
            "phone_sha256": [hashed("+4917012345678")]}).to_string()).await;
        assert_eq!(s, 200, "{added}");
        assert_eq!((added["added"].as_i64(), added["total"].as_i64()), (Some(2), Some(4)), "one was known already: {added}");
        assert_eq!(app.get(&format!("/api/admin/partners/{}/known-contacts", broker["id"])).await.1["total"], 4);
        let (s, bad) = upload(&app, &broker, "application/json", json!({"emails": ["nobody"]}).to_string()).await;
        assert_eq!(s, 422, "{bad}");

        // Broker has the lowest count, but it has Anna: her lead goes to the fallback.
        let id = send(&app, &token, person("anna@example.de")).await;
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(lead["partner_id"], fallback["id"], "{lead}");
        assert!(lead["routing"].to_string().contains("already known to the partner"), "{}", lead["routing"]);
        // And a lead with a known phone (in another form) likewise; an unknown person goes to it.
        let karl = json!({"name": "Karl", "email": "karl@example.de", "phone": "+49 151 99887766", "country": "germany", "niche": "forex"});
        let id = send(&app, &token, karl).await;
        assert_eq!(lead_in(&app, &id, "delivered").await["partner_id"], fallback["id"]);
        let id = send(&app, &token, person("new.person@example.de")).await;
        assert_eq!(lead_in(&app, &id, "delivered").await["partner_id"], broker["id"]);

        // Nothing of the uploaded contacts is stored in clear, nor as a bare SHA-256.
        for needle in ["client.one@broker.example".to_string(), hashed("client.one@broker.example"), "99887766".into()] {
            let found = app.store.text_containing_for_tests(&needle).await;
            assert!(found.iter().all(|c| !c.starts_with("known_contacts")), "{needle} in {found:?}");
        }
        assert!(app.store.text_containing_for_tests("client.one@broker.example").await.is_empty());
        if url.expose().starts_with("sqlite") {
            app.store.checkpoint_for_tests().await;
            let path = url.expose().trim_start_matches("sqlite://").split('?').next().unwrap().to_string();
            let bytes = std::fs::read(&path).unwrap();
            for needle in ["client.one@broker.example".to_string(), hashed("client.one@broker.example")] {
                assert!(!bytes.windows(needle.len()).any(|w| w == needle.as_bytes()), "{needle} is in the database file");
            }
        }
        // Emptied: nothing of the broker's is known any more.
        let r = app.client.delete(app.url(&format!("/api/admin/partners/{}/known-contacts", broker["id"])))
            .header("authorization", format!("Bearer {}", app.admin_token)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(app.get(&format!("/api/admin/partners/{}/known-contacts", broker["id"])).await.1["total"], 0);
        // Each upload and the emptying are in the audit trail, with the counts only.
        let (_, audit) = app.get("/api/admin/audit").await;
        let counts: Vec<Value> = audit["entries"].as_array().unwrap().iter()
            .filter(|e| e["action"] == "known_contacts" && e["entity_id"] == broker["id"])
            .map(|e| e["changes"]["known_contacts"].clone()).collect();
        assert_eq!(counts, [json!({"before": 4, "after": 0}), json!({"before": 2, "after": 4}), json!({"before": 0, "after": 2})], "{audit}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_duplicate_answer_teaches_that_the_partner_has_the_person(db) {
        // Dedupe off, so that the same person's next lead is routed at all.
        let app = delivering(db, &[("LEADROUTER_DEDUPE_WINDOW", "0")]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (_, fallback) = fallback_with_one_lead(&app, &token).await;
        let broker_rx = Receiver::start("127.0.0.1").await;
        broker_rx.script(vec![Reply::Body(200, r#"{"error": "Email already exists"}"#.into())]);
        broker_rx.otherwise(Reply::Status(200));
        let broker = partner(&app, "Broker CRM", &broker_rx.url("second.test", "/api"),
            json!({"response": broker_rules()})).await;
        let id = send(&app, &token, person("anna@example.de")).await;
        assert_eq!(lead_in(&app, &id, "delivered").await["partner_id"], fallback["id"]);
        let (_, known) = app.get(&format!("/api/admin/partners/{}/known-contacts", broker["id"])).await;
        assert_eq!(known["total"], 2, "her e-mail and phone: {known}");
        // Her next lead is not offered to the broker, though its count is the lowest (0 to 2).
        let again = send(&app, &token, person("anna@example.de")).await;
        let lead = lead_in(&app, &again, "delivered").await;
        assert_eq!(lead["partner_id"], fallback["id"], "{lead}");
        assert!(lead["routing"].to_string().contains("already known to the partner"), "{}", lead["routing"]);
        assert_eq!(broker_rx.requests().len(), 1, "the broker was asked once");
        // Another person goes to it.
        let other = send(&app, &token, person("otto@example.de")).await;
        assert_eq!(lead_in(&app, &other, "delivered").await["partner_id"], broker["id"]);
        app.stop().await;
    }
}

both_backends! {
    async fn a_waiting_source_is_answered_the_partners_autologin_as_json_and_as_a_redirect(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let autologin = |n: u32| json!({"success": true, "data": {"id": format!("CRM-{n}"),
            "autologin_url": format!("https://crm.example.com/autologin?t={n}")}}).to_string();
        rx.script(vec![Reply::Body(200, autologin(1)), Reply::Body(200, autologin(2)), Reply::Status(200)]);
        partner(&app, "Broker CRM", &rx.url("second.test", "/api"), json!({"response": broker_rules()})).await;
        // A script's source: the JSON answer carries the autologin.
        let (_, api) = app.source(json!({"name": "API", "kind": "webhook", "wait_for_delivery": 10})).await;
        let (s, r) = app.send_lead(&api, person("anna@example.de")).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!((r["status"].as_str(), r["partner_lead_id"].as_str(), r["redirect_url"].as_str()),
            (Some("delivered"), Some("CRM-1"), Some("https://crm.example.com/autologin?t=1")), "{r}");
        let (_, source) = app.get("/api/admin/sources").await;
        assert!(source["sources"].as_array().unwrap().iter().any(|s| s["wait_for_delivery"] == 10), "{source}");
        // A landing page's visitor is sent on to it (303); without an autologin, to the
        // source's own thank-you page.
        let (_, landing) = app.source(json!({"name": "LP", "kind": "landing_page", "wait_for_delivery": 10,
            "redirect_url": "https://example.de/danke"})).await;
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let post = |email: &'static str| client.post(app.url(&format!("/api/webhook/{landing}")))
            .form(&[("email", email), ("phone", "+49 1512 7654321"), ("country", "germany"), ("niche", "forex")])
            .send();
        let r = post("otto@example.de").await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "https://crm.example.com/autologin?t=2");
        let r = client.post(app.url(&format!("/api/webhook/{landing}")))
            .form(&[("email", "eva@example.de"), ("phone", "+49 1512 1111111"), ("country", "germany"), ("niche", "forex")])
            .send().await.unwrap();
        assert_eq!(r.status(), 303);
        assert_eq!(r.headers()["location"], "https://example.de/danke");
        app.stop().await;
    }
}

both_backends! {
    async fn a_partner_slower_than_the_wait_leaves_the_answer_as_before(db) {
        let app = delivering(db, &[("LEADROUTER_DELIVERY_TIMEOUT", "10s")]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let gate = std::sync::Arc::new(tokio::sync::Notify::new());
        rx.otherwise(Reply::Gate(200, gate.clone()));
        partner(&app, "Slow CRM", &rx.url("second.test", "/api"), json!({"response": broker_rules()})).await;
        let (_, api) = app.source(json!({"name": "API", "kind": "webhook", "wait_for_delivery": 1})).await;
        let (s, r) = app.send_lead(&api, person("anna@example.de")).await;
        assert_eq!(s, 202, "the time ran out: {r}");
        assert_eq!(r["status"], "queued");
        gate.notify_one();
        lead_in(&app, &r["lead_id"], "delivered").await;
        // A lead no partner can take comes back at once as held, well before its wait.
        let (_, wait_long) = app.source(json!({"name": "Other", "kind": "webhook", "wait_for_delivery": 25})).await;
        let (s, r) = app.send_lead(&wait_long, json!({"email": "x@example.at", "country": "austria", "niche": "forex"})).await;
        assert_eq!((s, r["status"].as_str()), (200, Some("held")), "{r}");
        // At most 25 seconds.
        let (s, r) = app.post("/api/admin/sources", json!({"name": "Too patient", "kind": "webhook", "wait_for_delivery": 26})).await;
        assert_eq!(s, 422, "{r}");
        assert!(r["error"]["fields"]["wait_for_delivery"].as_str().unwrap().contains("0 to 25"), "{r}");
        app.stop().await;
    }
}

both_backends! {
    async fn the_preview_shows_which_past_answers_the_rules_would_change_and_changes_nothing(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.script(vec![
            Reply::Body(200, r#"{"success": true, "id": 1}"#.into()),
            Reply::Body(200, r#"{"success": false, "message": "Email already exists"}"#.into()),
        ]);
        let broker = partner(&app, "Broker CRM", &rx.url("second.test", "/api"), json!({})).await;
        let first = send(&app, &token, person("anna@example.de")).await;
        lead_in(&app, &first, "delivered").await;
        let second = send(&app, &token, person("otto@example.de")).await;
        lead_in(&app, &second, "delivered").await;
        let path = format!("/api/admin/partners/{}/response/preview", broker["id"]);
        let (s, p) = app.post(&path, json!({"response": {"rules": [
            {"if": {"path": "message", "contains": "exists"}, "then": "duplicate"}], "reason": "message"}})).await;
        assert_eq!(s, 200, "{p}");
        assert_eq!((p["checked"].as_i64(), p["changed"].as_i64()), (Some(2), Some(1)), "{p}");
        let changed = &p["samples"][0];
        assert_eq!((changed["lead_id"].as_i64(), changed["was"].as_str(), changed["would_be"].as_str()),
            (second.as_i64(), Some("delivered"), Some("duplicate")), "{p}");
        assert_eq!(changed["reason"], "Email already exists");
        assert_eq!((p["samples"][1]["was"].as_str(), p["samples"][1]["would_be"].as_str()), (Some("delivered"), Some("delivered")));
        // Nothing was saved or changed.
        assert_eq!(app.get(&format!("/api/admin/partners/{}", broker["id"])).await.1["response"], Value::Null);
        assert_eq!(lead_in(&app, &second, "delivered").await["partner_id"], broker["id"]);
        // A bad setting is refused as at save; a limit is bounded.
        let (s, e) = app.post(&path, json!({"response": {"rules": [{"if": {"status": [409]}, "then": "maybe"}]}})).await;
        assert_eq!(s, 422);
        assert!(e["error"]["fields"]["response.rules[0].then"].is_string(), "{e}");
        let (s, e) = app.post(&path, json!({"response": null, "limit": 0})).await;
        assert_eq!(s, 422, "{e}");
        let (s, p) = app.post(&path, json!({"response": null, "limit": 1})).await;
        assert_eq!((s, p["checked"].as_i64(), p["changed"].as_i64()), (200, Some(1), Some(0)), "{p}");
        app.stop().await;
    }
}

both_backends! {
    async fn a_verdict_past_the_first_kib_is_read_and_only_a_kib_is_kept(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let (_, fallback) = fallback_with_one_lead(&app, &token).await;
        let rx = Receiver::start("127.0.0.1").await;
        let long = json!({"notes": "x".repeat(40 * 1024), "success": false, "message": "blacklisted"}).to_string();
        rx.otherwise(Reply::Body(200, long));
        let broker = partner(&app, "Broker CRM", &rx.url("second.test", "/api"), json!({"response": broker_rules()})).await;
        let id = send(&app, &token, person("anna@example.de")).await;
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(lead["partner_id"], fallback["id"]);
        let refused = delivery_to(&lead, &broker);
        assert_eq!((refused["status"].as_str(), refused["reason"].as_str()), (Some("rejected"), Some("blacklisted")));
        let kept = refused["attempts"][0]["response_excerpt"].as_str().unwrap();
        assert_eq!(kept.len(), 1024, "a KiB of the answer is kept");
        app.stop().await;
    }
}

both_backends! {
    async fn a_partner_finds_its_leads_by_its_own_id_in_the_portal_and_never_another_partners(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        // Two partners whose CRMs happen to give the same id.
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Body(200, r#"{"data": {"id": "CRM-77"}}"#.into()));
        let rules = json!({"response": {"partner_lead_id": "data.id"}});
        let berlin = partner(&app, "Berlin CRM", &rx.url("partner.test", "/b"), rules.clone()).await;
        let first = send(&app, &token, person("anna@example.de")).await;
        assert_eq!(lead_in(&app, &first, "delivered").await["partner_id"], berlin["id"]);
        // Berlin paused, the next lead goes to the other partner.
        let (s, _) = app.post(&format!("/api/admin/partners/{}/pause", berlin["id"]), json!({})).await;
        assert_eq!(s, 200);
        let vienna = partner(&app, "Other CRM", &rx.url("second.test", "/v"), rules).await;
        let second = send(&app, &token, person("otto@example.de")).await;
        assert_eq!(lead_in(&app, &second, "delivered").await["partner_id"], vienna["id"]);

        let (mut me, _) = crate::portal::logged_in(&app, berlin["id"].as_i64().unwrap(), "buyer@berlin.example").await;
        let found = crate::portal::rows(&me.get("/portal?q=CRM-77").await);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains(&format!("#{first}")), "{found:?}");
        let page = me.get(&format!("/portal/leads/{first}")).await;
        assert!(page.body.contains("Your lead id") && page.body.contains("CRM-77"), "{}", page.body);
        assert_eq!(me.get(&format!("/portal/leads/{second}")).await.status, 404);
        app.stop().await;
    }
}

both_backends! {
    async fn a_waiting_source_is_answered_when_another_instance_delivered_its_lead(db) {
        // This instance routes and delivers; the one the source posts to only takes leads in.
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Body(200, json!({"success": true, "data": {"id": "CRM-7",
            "autologin_url": "https://crm.example.com/autologin?t=7"}}).to_string()));
        partner(&app, "Broker CRM", &rx.url("second.test", "/api"), json!({"response": broker_rules()})).await;
        let taker = app.another_instance(&[("LEADROUTER_ROUTING", "off"), ("LEADROUTER_DELIVERY", "off")]).await;
        let (_, token) = app.source(json!({"name": "API", "kind": "webhook", "wait_for_delivery": 25})).await;
        // Answered once the other instance has delivered the lead, with what the partner
        // said, not when the 25 s wait ends (this client gives up after 20 s).
        let r = reqwest::Client::builder().timeout(std::time::Duration::from_secs(20)).build().unwrap()
            .post(taker.url(&format!("/api/webhook/{token}")))
            .json(&person("ines@example.de"))
            .send().await.expect("answered before the wait ended");
        assert_eq!(r.status(), 200);
        let r: Value = r.json().await.unwrap();
        assert_eq!((r["status"].as_str(), r["partner_lead_id"].as_str(), r["redirect_url"].as_str()),
            (Some("delivered"), Some("CRM-7"), Some("https://crm.example.com/autologin?t=7")), "{r}");
        taker.stop().await;
        app.stop().await;
    }
}
