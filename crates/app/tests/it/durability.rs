//! A lead answered with 2xx is never lost: the process is killed (SIGKILL, no shutdown)
//! right after the answer, and the lead is in the database.

use crate::support::process::Server;
use leadrouter_store::leads::LeadFilter;
use leadrouter_store::Store;
use serde_json::{json, Value};

both_backends! {
    async fn a_lead_acknowledged_just_before_a_crash_is_in_the_database(db) {
        let url = db.url.expose().to_string();
        let dir = tempfile::tempdir().unwrap();
        let token_out = crate::support::process::run(&["admin", "create-token", "--name", "t"], &[("DATABASE_URL", &url)]);
        let admin = String::from_utf8(token_out.stdout).unwrap().trim().to_string();
        let mut server = Server::start(&[("DATABASE_URL", &url)], dir.path());
        let client = reqwest::Client::new();
        let source: Value = client
            .post(format!("{}/api/admin/sources", server.base))
            .bearer_auth(&admin)
            .json(&json!({"name": "S", "kind": "webhook"}))
            .send().await.unwrap().json().await.unwrap();
        let token = source["token"].as_str().unwrap();

        let mut acknowledged = Vec::new();
        for i in 0..20 {
            let r = client
                .post(format!("{}/api/webhook/{token}", server.base))
                .json(&json!({"email": format!("crash{i}@example.com"), "country": "de", "niche": "forex"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 202);
            acknowledged.push(r.json::<Value>().await.unwrap()["lead_id"].as_i64().unwrap());
        }
        server.kill();

        let store = Store::connect(&db.url).await.unwrap();
        let stored = store.list_leads(&LeadFilter { limit: 100, ..LeadFilter::default() }).await.unwrap();
        let mut ids: Vec<i64> = stored.iter().map(|l| l.id).collect();
        ids.sort();
        assert_eq!(ids, acknowledged, "every acknowledged lead survived the crash");
        store.close().await;
    }
}

both_backends! {
    async fn deliveries_in_flight_when_the_server_dies_are_finished_after_a_restart(db) {
        use crate::support::receiver::{tls, Receiver, Reply};
        use std::collections::BTreeSet;
        use std::time::Duration;

        let url = db.url.expose().to_string();
        let dir = tempfile::tempdir().unwrap();
        let rx = Receiver::start("127.0.0.1").await;
        rx.otherwise(Reply::Slow(200, Duration::from_millis(400)));
        let ca = tls().ca_file.to_str().unwrap().to_string();
        let env = [
            ("DATABASE_URL", url.as_str()),
            ("LEADROUTER_EXTRA_ROOT_CERTS", ca.as_str()),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "127.0.0.1/32"),
            ("LEADROUTER_DELIVERY_TIMEOUT", "2s"),
            ("LEADROUTER_RETRY_SCHEDULE", "100ms,100ms,100ms,100ms,100ms"),
        ];
        let token_out = crate::support::process::run(&["admin", "create-token", "--name", "t"], &[("DATABASE_URL", &url)]);
        let admin = String::from_utf8(token_out.stdout).unwrap().trim().to_string();
        let mut server = Server::start(&env, dir.path());
        let client = reqwest::Client::new();
        let post = |base: &str, path: &str, body: Value| {
            client.post(format!("{base}{path}")).bearer_auth(&admin).json(&body).send()
        };
        let p: Value = post(&server.base, "/api/admin/partners", json!({"name": "P", "country": "germany",
            "niche": "forex", "daily_limit": 100, "premium_ratio": 50, "webhook_url": rx.url("127.0.0.1", "/hook")}))
            .await.unwrap().json().await.unwrap();
        assert!(p["id"].is_i64(), "{p}");
        let source: Value = post(&server.base, "/api/admin/sources", json!({"name": "S", "kind": "webhook"}))
            .await.unwrap().json().await.unwrap();
        let token = source["token"].as_str().unwrap();
        let mut ids = BTreeSet::new();
        for i in 0..20 {
            let r: Value = client
                .post(format!("{}/api/webhook/{token}", server.base))
                .json(&json!({"email": format!("k{i}@x.de"), "country": "de", "niche": "forex",
                    "type": if i % 2 == 0 { "premium" } else { "raw" }}))
                .send().await.unwrap().json().await.unwrap();
            ids.insert(r["lead_id"].as_i64().unwrap().to_string());
        }
        crate::support::eventually("deliveries in flight", || async { (rx.requests().len() >= 3).then_some(()) }).await;
        server.kill();

        let server = Server::start(&env, dir.path());
        let store = Store::connect(&db.url).await.unwrap();
        crate::support::eventually_within(Duration::from_secs(40), "every lead delivered after the restart", || async {
            let c = store.lead_status_counts().await.unwrap();
            (c.get("delivered") == Some(&20)).then_some(())
        })
        .await;
        let seen: BTreeSet<String> = rx.requests().iter().map(|r| r.headers["idempotency-key"].to_str().unwrap().to_string()).collect();
        assert_eq!(seen, ids, "the partner saw every lead's Idempotency-Key");
        for id in &ids {
            let deliveries = store.lead_deliveries(id.parse().unwrap()).await.unwrap();
            let delivered = deliveries.iter().filter(|d| d.status == "delivered").count();
            assert_eq!((deliveries.len(), delivered), (1, 1), "lead {id}: {deliveries:?}");
        }
        store.close().await;
        drop(server);
    }
}
