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
        let store = Store::connect(&db.url).await.unwrap();
        crate::support::eventually("some delivered, others in flight", || async {
            let c = store.lead_status_counts().await.unwrap();
            (c.get("delivered").copied().unwrap_or(0) >= 3).then_some(())
        }).await;
        server.kill();
        // What was recorded as delivered before the crash is never sent again.
        let settled: Vec<String> = store
            .list_leads(&LeadFilter { status: Some("delivered".into()), limit: 100, ..LeadFilter::default() })
            .await.unwrap().iter().map(|l| l.id.to_string()).collect();

        let server = Server::start(&env, dir.path());
        crate::support::eventually_within(Duration::from_secs(40), "every lead delivered after the restart", || async {
            let c = store.lead_status_counts().await.unwrap();
            (c.get("delivered") == Some(&20)).then_some(())
        })
        .await;
        // Receipts per lead, as the partner counts them. Delivery is at least once: a send
        // whose 2xx came back as the process died is sent again after the restart, with the
        // same webhook-id, Idempotency-Key and body, so the partner can drop the repeat.
        let mut receipts: std::collections::BTreeMap<String, Vec<(String, Vec<u8>)>> = Default::default();
        for r in rx.requests() {
            let key = r.headers["idempotency-key"].to_str().unwrap().to_string();
            let webhook_id = r.headers["webhook-id"].to_str().unwrap().to_string();
            receipts.entry(key).or_default().push((webhook_id, r.body.to_vec()));
        }
        let seen: BTreeSet<String> = receipts.keys().cloned().collect();
        assert_eq!(seen, ids, "the partner saw every lead's Idempotency-Key");
        for key in &settled {
            assert_eq!(receipts[key].len(), 1, "lead {key} was delivered before the crash, and sent again");
        }
        let mut repeated = 0;
        for (key, got) in &receipts {
            assert!(got.iter().all(|(id, _)| id == key), "lead {key}: webhook-id is the lead id");
            assert!(got.iter().all(|(_, body)| *body == got[0].1), "lead {key}: a repeat is the same body");
            if got.len() > 1 {
                repeated += 1;
            }
        }
        eprintln!(
            "crash report: {} leads, {} recorded delivered before the crash (each received once), \
             {} receipts, {repeated} leads received more than once (in flight at the crash; \
             each repeat with the same webhook-id and body)",
            receipts.len(),
            settled.len(),
            receipts.values().map(Vec::len).sum::<usize>()
        );
        for id in &ids {
            let deliveries = store.lead_deliveries(id.parse().unwrap()).await.unwrap();
            let delivered = deliveries.iter().filter(|d| d.status == leadrouter_core::status::DeliveryStatus::Delivered).count();
            assert_eq!((deliveries.len(), delivered), (1, 1), "lead {id}: {deliveries:?}");
        }
        store.close().await;
        drop(server);
    }
}
