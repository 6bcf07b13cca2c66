//! The guide's "Adding New Partners", through the admin API, on both backends.

use crate::support::TestApp;
use leadrouter_core::localtime::local_date;
use leadrouter_core::token::hash_secret;
use reqwest::Method;
use serde_json::{json, Value};

/// The guide's example partner, as its setup form writes it.
fn guide_partner_form() -> Value {
    json!({
        "Partner Name": "FX Trading Partners Ltd",
        "Email": "integration@fxpartners.com",
        "Country": "germany",
        "Niche": "forex",
        "Daily Limit": 50,
        "Premium Ratio": "70%",
        "Timezone": "Europe/Berlin",
        "Webhook URL": "https://fxpartners.com/api/leads",
        "Phone Format": "International (+1234567890)",
        "Required Fields": "name,email,phone,country"
    })
}

/// API.md's full partner example, secrets included.
fn api_partner() -> Value {
    json!({
        "name": "FX Trading Partners Ltd",
        "email": "integration@fxpartners.com",
        "country": "germany",
        "niche": "forex",
        "daily_limit": 50,
        "premium_ratio": 70,
        "timezone": "Europe/Berlin",
        "business_hours": {"mon": ["09:00", "18:00"], "tue": ["09:00", "18:00"]},
        "webhook_url": "https://fxpartners.com/api/leads",
        "phone_format": "international",
        "required_fields": ["name", "email", "phone", "country"],
        "field_mapping": {"name": "full_name"},
        "default_values": {"affiliate_id": "A-17"},
        "content_type": "json",
        "auth": {"type": "bearer", "token": "partner-bearer-s3cret"}
    })
}

fn settings(v: &Value) -> Value {
    let keys = [
        "name",
        "email",
        "country",
        "niche",
        "daily_limit",
        "premium_ratio",
        "timezone",
        "business_hours",
        "webhook_url",
        "phone_format",
        "required_fields",
        "field_mapping",
        "default_values",
        "content_type",
        "auth",
    ];
    json!(keys
        .iter()
        .map(|k| (k.to_string(), v[k].clone()))
        .collect::<serde_json::Map<_, _>>())
}

both_backends! {
    async fn the_guides_example_partner_is_created_as_written_and_reads_back(db) {
        let app = TestApp::spawn(db).await;
        let (status, created) = app.post("/api/admin/partners", guide_partner_form()).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["success"], true);
        assert_eq!(created["name"], "FX Trading Partners Ltd");
        assert_eq!(created["country"], "germany");
        assert_eq!(created["premium_ratio"], 70);
        assert_eq!(created["phone_format"], "international");
        assert_eq!(created["required_fields"], json!(["name", "email", "phone", "country"]));
        assert_eq!(created["status"], "active");
        assert_eq!(created["quotas"], json!({"premium": 35, "raw": 15}));
        assert_eq!(created["warnings"], json!([]), "fxpartners.com resolves to a public address");
        let key = created["api_key"].as_str().unwrap();
        assert!(key.starts_with("pk_") && key.len() == 35, "{key}");
        assert!(created["signing_secret"].as_str().unwrap().starts_with("whsec_"));
        let id = created["id"].as_i64().unwrap();

        let (status, fetched) = app.get(&format!("/api/admin/partners/{id}")).await;
        assert_eq!(status, 200);
        assert_eq!(settings(&fetched), settings(&created));
        assert!(fetched.get("api_key").is_none() && fetched.get("signing_secret").is_none());
        let today = local_date("Europe/Berlin", chrono::Utc::now().timestamp_millis());
        assert_eq!(fetched["today"], json!({"total": 0, "premium": 0, "raw": 0, "date": today}));
        assert!(fetched["created_at"].as_str().unwrap().ends_with('Z'));

        let (_, list) = app.get("/api/admin/partners").await;
        assert_eq!(list["partners"].as_array().unwrap().len(), 1);
        assert_eq!(list["partners"][0]["id"], id);
        assert_eq!(list["next_before"], Value::Null);
        app.stop().await;
    }
}

both_backends! {
    async fn the_guides_integration_examples_round_trip(db) {
        let app = TestApp::spawn(db).await;
        let examples = [
            json!({"Name": "German FX Solutions", "Country": "germany", "Niche": "forex",
                   "Webhook": "https://germanfx.com/webhook/leads",
                   "Required Fields": "name,email,phone,country", "Phone Format": "International"}),
            json!({"Name": "Recovery Specialists Spain", "Country": "spain", "Niche": "recovery",
                   "Webhook": "https://recovery-es.com/api/new-lead",
                   "Required Fields": "name,lastname,email,phone,country,amount_lost,fraud_type",
                   "Phone Format": "Local"}),
        ];
        for example in examples {
            let (status, created) = app.post("/api/admin/partners", example.clone()).await;
            assert_eq!(status, 201, "{created}");
            let warnings = created["warnings"].as_array().unwrap();
            assert_eq!(warnings.len(), 2, "defaults are said out loud: {warnings:?}");
            let (_, fetched) = app.get(&format!("/api/admin/partners/{}", created["id"])).await;
            assert_eq!(settings(&fetched), settings(&created));
            assert_eq!(fetched["webhook_url"], example["Webhook"]);
            // What was read can be sent back as it is: nothing changes.
            let (status, patched) = app.patch(&format!("/api/admin/partners/{}", created["id"]), fetched.clone()).await;
            assert_eq!(status, 200, "{patched}");
            assert_eq!(settings(&patched), settings(&fetched));
        }
        let (_, list) = app.get("/api/admin/partners").await;
        let partners = list["partners"].as_array().unwrap();
        assert_eq!(partners[0]["name"], "Recovery Specialists Spain", "newest first");
        assert_eq!(partners[0]["timezone"], "Europe/Madrid");
        assert_eq!(partners[0]["phone_format"], "local");
        assert_eq!(partners[0]["required_fields"].as_array().unwrap().len(), 7);
        assert_eq!(partners[1]["timezone"], "Europe/Berlin");
        app.stop().await;
    }
}

both_backends! {
    async fn every_rejection_listed_in_the_contract_names_its_field(db) {
        let app = TestApp::spawn(db).await;
        let cases: &[(&str, Value, &str)] = &[
            ("webhook_url", json!("http://fxpartners.com/api/leads"), "must use https"),
            ("webhook_url", json!("https://127.0.0.1/leads"), "loopback"),
            ("webhook_url", json!("https://0x7f.1/"), "loopback"),
            ("webhook_url", json!("https://192.168.1.20/"), "private"),
            ("webhook_url", json!("https://[::ffff:10.0.0.1]/"), "private"),
            ("webhook_url", json!("https://localhost/leads"), "local name"),
            ("webhook_url", json!("https://internal.partner.example/x"), "resolves to 10.0.0.7"),
            ("webhook_url", json!("https://user:pass@fxpartners.com/"), "credentials"),
            ("erasure_webhook_url", json!("http://fxpartners.com/erased"), "must use https"),
            ("erasure_webhook_url", json!("https://192.168.1.20/erased"), "private"),
            ("erasure_webhook_url", json!("https://internal.partner.example/x"), "resolves to 10.0.0.7"),
            ("country", json!("atlantis"), "unknown country"),
            ("niche", json!("crypto"), "unknown niche"),
            ("timezone", json!("Europe/Atlantis"), "unknown timezone"),
            ("daily_limit", json!(0), "from 1"),
            ("premium_ratio", json!(101), "0 to 100"),
            ("premium_ratio", json!(0.7), "ambiguous"),
            ("phone_format", json!("semaphore"), "international, national, local"),
            ("business_hours", json!({"mon": ["18:00", "09:00"]}), "overnight"),
            ("business_hours", json!({"funday": ["09:00", "18:00"]}), "unknown day"),
        ];
        for (field, value, expect) in cases {
            let mut body = api_partner();
            body[*field] = value.clone();
            let (status, r) = app.post("/api/admin/partners", body).await;
            assert_eq!(status, 422, "{field}={value}: {r}");
            assert_eq!(r["success"], false);
            assert_eq!(r["error"]["code"], "validation_failed");
            let message = r["error"]["fields"][*field].as_str().unwrap_or_default();
            assert!(message.contains(expect), "{field}={value}: {r}");
            assert_eq!(r["error"]["fields"].as_object().unwrap().len(), 1, "{r}");
        }
        // Several bad fields at once are all reported.
        let (status, r) = app
            .post("/api/admin/partners", json!({"name": "X", "country": "mars", "niche": "crypto",
                "daily_limit": -5, "webhook_url": "http://x.example"}))
            .await;
        assert_eq!(status, 422);
        let fields: Vec<&String> = r["error"]["fields"].as_object().unwrap().keys().collect();
        assert_eq!(fields, ["country", "daily_limit", "niche", "webhook_url"]);
        // A host that does not resolve yet is accepted, with a warning.
        let mut body = api_partner();
        body["webhook_url"] = json!("https://not-yet-live.example/hook");
        let (status, r) = app.post("/api/admin/partners", body).await;
        assert_eq!(status, 201, "{r}");
        assert!(r["warnings"][0].as_str().unwrap().contains("does not resolve yet"), "{r}");
        // Nothing refused was stored.
        let (_, list) = app.get("/api/admin/partners").await;
        assert_eq!(list["partners"].as_array().unwrap().len(), 1);
        app.stop().await;
    }
}

both_backends! {
    async fn bodies_that_are_not_json_objects_get_the_contract_errors(db) {
        let app = TestApp::spawn(db).await;
        let url = app.url("/api/admin/partners");
        let send = |body: String, ct: &'static str| {
            app.client.post(&url).bearer_auth(&app.admin_token).header("content-type", ct).body(body).send()
        };
        let r = send("name=x".into(), "application/x-www-form-urlencoded").await.unwrap();
        assert_eq!(r.status(), 415);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "unsupported_media_type");
        let r = send("[1,2]".into(), "application/json").await.unwrap();
        assert_eq!(r.status(), 422);
        let r = send("{\"name\": ".into(), "application/json").await.unwrap();
        assert_eq!(r.status(), 422);
        assert!(r.json::<Value>().await.unwrap()["error"]["fields"]["body"].as_str().unwrap().contains("JSON"));
        let big = format!("{{\"name\": \"{}\"}}", "x".repeat(70 * 1024));
        let r = send(big, "application/json").await.unwrap();
        assert_eq!(r.status(), 413);
        assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "payload_too_large");
        app.stop().await;
    }
}

both_backends! {
    async fn a_partner_is_updated_paused_resumed_and_deleted(db) {
        let app = TestApp::spawn(db).await;
        let (_, created) = app.post("/api/admin/partners", api_partner()).await;
        let id = created["id"].as_i64().unwrap();
        let path = format!("/api/admin/partners/{id}");

        let (status, updated) = app.patch(&path, json!({"daily_limit": 80, "business_hours": null})).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["daily_limit"], 80);
        assert_eq!(updated["business_hours"], Value::Null);
        assert_eq!(updated["quotas"], json!({"premium": 56, "raw": 24}));
        assert_eq!(updated["field_mapping"], json!({"name": "full_name"}), "untouched");
        assert_eq!(updated["auth"], json!({"type": "bearer"}), "auth kept, still hidden");

        let (status, r) = app.patch(&path, json!({"premium_ratio": 150, "webhook_url": "https://10.1.1.1/"})).await;
        assert_eq!(status, 422);
        assert_eq!(r["error"]["fields"].as_object().unwrap().len(), 2);
        assert_eq!(app.get(&path).await.1["daily_limit"], 80, "a refused update changes nothing");

        let (status, paused) = app.post(&format!("{path}/pause"), json!({})).await;
        assert_eq!((status, paused["status"].as_str()), (200, Some("paused")));
        assert_eq!(app.get(&path).await.1["status"], "paused");
        let (_, resumed) = app.post(&format!("{path}/resume"), json!({})).await;
        assert_eq!(resumed["status"], "active");

        let (status, _) = app.admin(Method::DELETE, &path, None).await;
        assert_eq!(status, 200);
        assert_eq!(app.get(&path).await.0, 404);
        assert_eq!(app.patch(&path, json!({"daily_limit": 1})).await.0, 404);
        assert_eq!(app.post(&format!("{path}/pause"), json!({})).await.0, 404);
        assert_eq!(app.admin(Method::DELETE, &path, None).await.0, 404);
        assert_eq!(app.get("/api/admin/partners").await.1["partners"], json!([]));
        assert_eq!(app.get("/api/admin/partners/not-a-number").await.0, 404);
        app.stop().await;
    }
}

both_backends! {
    async fn rotated_keys_replace_the_old_ones_and_secrets_are_never_read_back(db) {
        let app = TestApp::spawn(db).await;
        let (_, created) = app.post("/api/admin/partners", api_partner()).await;
        let id = created["id"].as_i64().unwrap();
        let old_key = created["api_key"].as_str().unwrap().to_string();
        let old_secret = created["signing_secret"].as_str().unwrap().to_string();
        assert!(app.store.partner_by_api_key(&hash_secret(&old_key), now_ms()).await.unwrap().is_some());

        let (status, rotated) = app.post(&format!("/api/admin/partners/{id}/rotate-key"), json!({})).await;
        assert_eq!(status, 200);
        let new_key = rotated["api_key"].as_str().unwrap().to_string();
        assert_ne!(new_key, old_key);
        assert!(app.store.partner_by_api_key(&hash_secret(&old_key), now_ms()).await.unwrap().is_none());
        assert_eq!(app.store.partner_by_api_key(&hash_secret(&new_key), now_ms()).await.unwrap().unwrap().id, id);

        // A planned rotation keeps the old key working beside the new one for a while; the
        // partner API takes both until then, and the answer says until when.
        let (status, rotated) = app.post(&format!("/api/admin/partners/{id}/rotate-key"), json!({"keep_old_hours": 24})).await;
        assert_eq!(status, 200, "{rotated}");
        let newest = rotated["api_key"].as_str().unwrap().to_string();
        assert!(rotated["old_api_key_until"].is_string(), "{rotated}");
        for key in [&new_key, &newest] {
            let r = reqwest::Client::new().get(format!("{}/api/analytics/cpa", app.base)).bearer_auth(key).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "both keys work during the overlap");
        }
        let later = now_ms() + 25 * 3_600_000;
        assert!(app.store.partner_by_api_key(&hash_secret(&new_key), later).await.unwrap().is_none(), "the overlap ends");
        assert!(app.store.partner_by_api_key(&hash_secret(&old_key), now_ms()).await.unwrap().is_none(), "two rotations ago: gone");
        let (status, bad) = app.post(&format!("/api/admin/partners/{id}/rotate-key"), json!({"keep_old_hours": 1000})).await;
        assert_eq!(status, 422, "{bad}");
        assert!(bad["error"]["fields"]["keep_old_hours"].is_string(), "{bad}");

        let (_, rotated) = app.post(&format!("/api/admin/partners/{id}/rotate-secret"), json!({})).await;
        let new_secret = rotated["signing_secret"].as_str().unwrap().to_string();
        assert!(new_secret.starts_with("whsec_") && new_secret != old_secret);
        assert_eq!(app.store.partner(id).await.unwrap().unwrap().signing_secret.expose(), new_secret);

        // Every later read: no key, no signing secret, no auth token.
        let (_, one) = app.get(&format!("/api/admin/partners/{id}")).await;
        let (_, list) = app.get("/api/admin/partners").await;
        let (_, patched) = app.patch(&format!("/api/admin/partners/{id}"), json!({"daily_limit": 60})).await;
        for body in [one, list, patched] {
            let text = body.to_string();
            for secret in [old_key.as_str(), &new_key, &old_secret, &new_secret, "partner-bearer-s3cret"].iter() {
                assert!(!text.contains(*secret), "{secret} leaked in {text}");
            }
        }
        app.stop().await;
    }
}

both_backends! {
    async fn the_allow_list_exempts_exactly_the_listed_network(db) {
        let app = TestApp::spawn_with(db, &[("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32")]).await;
        let mut body = api_partner();
        body["webhook_url"] = json!("https://127.0.0.1:9443/hook");
        assert_eq!(app.post("/api/admin/partners", body.clone()).await.0, 201);
        body["webhook_url"] = json!("https://127.0.0.2:9443/hook");
        let (status, r) = app.post("/api/admin/partners", body.clone()).await;
        assert_eq!(status, 422, "{r}");
        body["webhook_url"] = json!("https://[::1]:9443/hook");
        assert_eq!(app.post("/api/admin/partners", body).await.0, 422);
        app.stop().await;
    }
}

both_backends! {
    async fn markets_and_niches_added_by_operators_are_usable_at_once(db) {
        let app = TestApp::spawn(db).await;
        let france = json!({"slug": "france", "iso_code": "FR", "name": "France",
            "aliases": ["La France"], "phone_code": 33, "default_timezone": "Europe/Paris"});
        let (status, r) = app.post("/api/admin/markets", france.clone()).await;
        assert_eq!(status, 201, "{r}");
        assert_eq!(app.post("/api/admin/markets", france).await.0, 409);
        let (status, r) = app.post("/api/admin/markets", json!({"slug": "x"})).await;
        assert_eq!(status, 422);
        assert!(r["error"]["fields"].as_object().unwrap().len() >= 4);
        assert_eq!(app.post("/api/admin/niches", json!({"slug": "crypto"})).await.0, 201);
        assert_eq!(app.post("/api/admin/niches", json!({"slug": "crypto"})).await.0, 409);

        let mut body = api_partner();
        body["country"] = json!("La France");
        body["niche"] = json!("Crypto");
        body.as_object_mut().unwrap().remove("timezone");
        let (status, p) = app.post("/api/admin/partners", body).await;
        assert_eq!(status, 201, "{p}");
        assert_eq!((p["country"].as_str(), p["niche"].as_str()), (Some("france"), Some("crypto")));
        assert_eq!(p["timezone"], "Europe/Paris", "the new market's timezone");
        assert_eq!(app.get("/api/admin/markets").await.1["markets"].as_array().unwrap().len(), 8);
        app.stop().await;
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
