//! What a new user and an attacker found in the backend (issue 12), each as the behaviour a
//! user would notice, on both backends where storage is involved.

use crate::delivery::{delivering, lead_in, partner};
use crate::support::receiver::Receiver;
use crate::support::TestApp;
use serde_json::{json, Value};

/// The guide's example lead, as a source would send it.
fn guide_lead() -> Value {
    json!({"name": "John Smith", "email": "john.smith@email.com", "phone": "+491234567890",
           "country": "germany", "niche": "forex", "type": "premium", "source": "facebook_ads"})
}

async fn webhook_source(app: &TestApp) -> String {
    app.source(json!({"name": "Guide source", "kind": "webhook"}))
        .await
        .1
}

both_backends! {
    async fn the_guides_example_phone_is_kept_flagged_and_delivered(db) {
        let app = delivering(db, &[]).await;
        let rx = Receiver::start("127.0.0.1").await;
        let strict = partner(&app, "Valid phones only", "https://fxpartners.com/api/leads",
            json!({"valid_phone_only": true})).await;
        assert_eq!(strict["valid_phone_only"], json!(true));
        let open = partner(&app, "FX Trading Partners Ltd", &rx.url("partner.test", "/api/leads"),
            json!({})).await;
        assert_eq!(open["valid_phone_only"], json!(false), "off unless asked for");
        let token = webhook_source(&app).await;

        let (status, answer) = app.send_lead(&token, guide_lead()).await;
        assert_eq!(status, 202, "the guide's own example is accepted: {answer}");
        let id = answer["lead_id"].clone();
        let lead = lead_in(&app, &id, "delivered").await;
        assert_eq!(lead["phone"], "+491234567890");
        assert_eq!(lead["phone_valid"], json!(false));
        assert_eq!(lead["partner_id"], open["id"]);
        let strict_entry = lead["routing"].as_array().unwrap().iter()
            .find(|e| e["partner_id"] == strict["id"]).cloned().unwrap_or_else(|| panic!("{lead}"));
        assert_eq!(strict_entry["eligible"], json!(false));
        assert_eq!(strict_entry["reason"], "phone number not valid");
        let got: Value = serde_json::from_slice(&rx.requests()[0].body).unwrap();
        assert_eq!(got["phone"], "+491234567890");

        // A valid mobile number goes to either; an impossible one is still a 422 naming it.
        let (status, answer) = app.send_lead(&token, json!({"email": "a@example.com",
            "phone": "0151 12345678", "country": "de", "niche": "forex"})).await;
        assert_eq!(status, 202, "{answer}");
        let valid = app.get(&format!("/api/admin/leads/{}", answer["lead_id"])).await.1;
        assert_eq!(valid["phone_valid"], json!(true));
        for phone in ["12", "call me", "+49 1234 5678 9012 3456 78"] {
            let (status, answer) = app.send_lead(&token, json!({"email": "b@example.com",
                "phone": phone, "country": "de", "niche": "forex"})).await;
            assert_eq!(status, 422, "{phone}: {answer}");
            assert_eq!(answer["error"]["fields"]["phone"], "is not a valid phone number for germany");
        }
        app.stop().await;
    }
}
