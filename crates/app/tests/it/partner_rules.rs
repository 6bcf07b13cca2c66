//! Partner rules (API.md "Partner rules"): filters on any lead field, custom field or
//! derived field, on both backends, through real deliveries.

use crate::delivery::{delivering, lead_in, partner};
use crate::support::receiver::{Receiver, Reply};
use serde_json::{json, Value};

both_backends! {
    async fn a_partner_is_offered_only_the_leads_its_filters_take_and_the_others_say_why(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "Recovery LP", "kind": "webhook"})).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(200));
        let filters = json!([
            {"field": "amount_lost", "op": "gte", "value": 1000},
            {"field": "fraud_type", "op": "in", "value": ["crypto", "forex"]},
            {"field": "phone_type", "op": "eq", "value": "mobile"},
            {"field": "email_domain", "op": "not_in", "value": ["example.net"]}
        ]);
        let picky = partner(&app, "Recovery Firm", &rx.url("partner.test", "/r"),
            json!({"niche": "forex", "filters": filters})).await;
        assert_eq!(picky["filters"], filters, "the filters read back as written");
        let lead = |email: &str, phone: &str, amount: &str, fraud: &str| json!({"email": email, "phone": phone,
            "country": "germany", "niche": "forex", "amount_lost": amount, "fraud_type": fraud});
        let send = |body: Value| {
            let app = &app;
            let token = token.clone();
            async move {
                let (s, r) = app.send_lead(&token, body).await;
                assert_eq!(s, 202, "{r}");
                r["lead_id"].clone()
            }
        };
        // Every filter met: delivered to it.
        let ok = send(lead("anna@example.de", "+49 151 12345678", "2500", "Crypto")).await;
        assert_eq!(lead_in(&app, &ok, "delivered").await["partner_id"], picky["id"]);
        // Each unmet filter holds the lead, with the reason naming the field, rule and value.
        for (body, says) in [
            (lead("b@example.de", "+49 151 12345679", "500", "crypto"), "filter: amount_lost gte 1000 (lead has 500)"),
            (lead("c@example.de", "+49 151 12345670", "5000", "romance"), "filter: fraud_type in crypto, forex (lead has romance)"),
            (lead("d@example.de", "+49 30 1234567", "5000", "forex"), "filter: phone_type eq mobile (lead has fixed_line)"),
            (lead("e@example.net", "+49 151 12345671", "5000", "forex"), "filter: email_domain not_in example.net (lead has example.net)"),
        ] {
            let id = send(body).await;
            let held = lead_in(&app, &id, "held").await;
            assert!(held["routing"].to_string().contains(says), "{says}: {}", held["routing"]);
        }
        assert_eq!(rx.requests().len(), 1, "only the lead its filters take reached it");
        // Wrong filters are named by place and part; nothing is changed.
        let (s, e) = app.patch(&format!("/api/admin/partners/{}", picky["id"]),
            json!({"filters": [{"field": "amount_lost", "op": "gte", "value": 1}, {"field": "x", "op": "around", "value": 1}]})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["filters[1].op"].is_string(), "{e}");
        let (_, now) = app.get(&format!("/api/admin/partners/{}", picky["id"])).await;
        assert_eq!(now["filters"], filters);
        // Filters cleared: the held leads are looked at again and delivered.
        let (s, _) = app.patch(&format!("/api/admin/partners/{}", picky["id"]), json!({"filters": null})).await;
        assert_eq!(s, 200);
        app.run_until_idle().await;
        assert_eq!(rx.requests().len(), 5, "every held lead delivered once the filters are gone");
        app.stop().await;
    }
}

both_backends! {
    async fn weights_split_a_market_seventy_thirty_and_priorities_fill_one_partner_first(db) {
        let app = delivering(db, &[]).await;
        let (_, token) = app.source(json!({"name": "LP", "kind": "webhook"})).await;
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Status(200));
        let big = partner(&app, "Seventy", &rx.url("partner.test", "/70"),
            json!({"weight": 70, "daily_limit": 1000, "premium_ratio": 0})).await;
        let small = partner(&app, "Thirty", &rx.url("partner.test", "/30"),
            json!({"weight": "30", "daily_limit": 1000, "premium_ratio": 0})).await;
        assert_eq!((big["weight"].as_i64(), small["weight"].as_i64(), big["priority"].as_i64()), (Some(70), Some(30), Some(0)));
        for i in 0..100 {
            let (s, r) = app.send_lead(&token, json!({"email": format!("w{i}@example.de"), "country": "germany", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
        }
        app.run_until_idle().await;
        let to = |path: &str| rx.requests().iter().filter(|r| r.path == path).count();
        assert!((68..=72).contains(&to("/70")), "{} / {}", to("/70"), to("/30"));
        assert_eq!(to("/70") + to("/30"), 100);

        // A waterfall: the best payer (priority 0) takes leads until its daily limit, then
        // the next tier does.
        let (_, fx) = app.source(json!({"name": "AT", "kind": "webhook"})).await;
        let first = partner(&app, "Best payer", &rx.url("partner.test", "/first"),
            json!({"country": "austria", "priority": 0, "daily_limit": 3, "premium_ratio": 0})).await;
        let second = partner(&app, "Next", &rx.url("partner.test", "/second"),
            json!({"country": "austria", "priority": 1, "daily_limit": 100, "premium_ratio": 0})).await;
        for i in 0..5 {
            let (s, r) = app.send_lead(&fx, json!({"email": format!("a{i}@example.at"), "country": "austria", "niche": "forex"})).await;
            assert_eq!(s, 202, "{r}");
        }
        app.run_until_idle().await;
        assert_eq!((to("/first"), to("/second")), (3, 2));
        let (_, p) = app.get(&format!("/api/admin/partners/{}", first["id"])).await;
        assert_eq!(p["today"]["total"], 3);
        assert_eq!(second["priority"], 1);
        // Out of range: named.
        let (s, e) = app.patch(&format!("/api/admin/partners/{}", first["id"]), json!({"weight": 0, "priority": "first"})).await;
        assert_eq!(s, 422, "{e}");
        assert!(e["error"]["fields"]["weight"].as_str().unwrap().contains("1 to 1000"), "{e}");
        assert!(e["error"]["fields"]["priority"].is_string(), "{e}");
        app.stop().await;
    }
}
