//! `leadrouter backup FILE` while the server takes leads: the copy is a sound database
//! holding every lead acknowledged before the backup began. PostgreSQL is pointed to
//! pg_dump.

use crate::support::process::{run, Server};
use leadrouter_store::leads::LeadFilter;
use leadrouter_store::{DatabaseUrl, Store};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_leads_arrive_holds_every_lead_acknowledged_before_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/live.db", dir.path().display());
    let env = [("DATABASE_URL", url.as_str())];
    let admin = String::from_utf8(run(&["admin", "create-token", "--name", "t"], &env).stdout)
        .unwrap()
        .trim()
        .to_string();
    let server = Server::start(&env, dir.path());
    let client = reqwest::Client::new();
    let source: Value = client
        .post(format!("{}/api/admin/sources", server.base))
        .bearer_auth(&admin)
        .json(&json!({"name": "S", "kind": "webhook"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let inbound = format!(
        "{}/api/webhook/{}",
        server.base,
        source["token"].as_str().unwrap()
    );
    // A source keeps sending while the backup runs.
    let acked: Arc<Mutex<Vec<i64>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (acked, stop, client, inbound) = (
            Arc::clone(&acked),
            Arc::clone(&stop),
            client.clone(),
            inbound.clone(),
        );
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = client.post(&inbound).json(&json!({"email": format!("b{i}@backup.example"), "country": "de", "niche": "forex"}))
                    .send().await.unwrap();
                assert_eq!(r.status(), 202);
                let id = r.json::<Value>().await.unwrap()["lead_id"]
                    .as_i64()
                    .unwrap();
                acked.lock().unwrap().push(id);
                i += 1;
            }
        })
    };
    crate::support::eventually("200 leads in", || async {
        (acked.lock().unwrap().len() >= 200).then_some(())
    })
    .await;
    let before: Vec<i64> = acked.lock().unwrap().clone();
    let copy = dir.path().join("copy.db");
    let out = run(&["backup", copy.to_str().unwrap()], &env);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.await.unwrap();
    assert!(
        acked.lock().unwrap().len() > before.len(),
        "leads kept arriving during the backup"
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "the copy is its owner's only: {mode:o}");
    }
    let again = run(&["backup", copy.to_str().unwrap()], &env);
    assert!(
        !again.status.success(),
        "an existing file is not overwritten"
    );
    server.terminate();

    // The copy: sound, migrated, usable, with every lead acknowledged before it began.
    let copy_url: DatabaseUrl = format!("sqlite://{}", copy.display()).parse().unwrap();
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        copy.display()
    ))
    .await
    .unwrap();
    let check: (String,) = sqlx::query_as("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(check.0, "ok");
    let store = Store::connect(&copy_url).await.unwrap();
    store.migrate().await.unwrap();
    let live = Store::connect(&url.parse().unwrap()).await.unwrap();
    assert_eq!(
        store.applied_migrations().await.unwrap(),
        live.applied_migrations().await.unwrap()
    );
    let mut stored: Vec<i64> = Vec::new();
    let mut page = LeadFilter {
        limit: 1000,
        ..LeadFilter::default()
    };
    loop {
        let leads = store.list_leads(&page).await.unwrap();
        if leads.is_empty() {
            break;
        }
        page.before = leads.last().map(|l| l.id);
        stored.extend(leads.iter().map(|l| l.id));
    }
    for id in &before {
        assert!(
            stored.contains(id),
            "lead {id} acknowledged before the backup is in it"
        );
    }
    store.close().await;
    live.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_backup_points_to_pg_dump() {
    let Some(db) = leadrouter_store::testing::TestDatabase::postgres().await else {
        return;
    };
    let out = run(
        &["backup", "/tmp/never-written.db"],
        &[("DATABASE_URL", db.url.expose())],
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pg_dump"), "{err}");
}
