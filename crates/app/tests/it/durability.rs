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
