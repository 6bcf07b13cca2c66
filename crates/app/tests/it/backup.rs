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
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("never-written.db");
    let out = run(
        &["backup", file.to_str().unwrap()],
        &[("DATABASE_URL", db.url.expose())],
    );
    assert!(!out.status.success());
    assert!(!file.exists(), "no empty file is left behind");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pg_dump"), "{err}");
}

/// Every file `leadrouter backup` creates, as the kernel saw it (strace): the copy and its
/// journal are made with mode 0600 from the first byte, never world-readable while the
/// copy is written. (Without strace on the machine, which `scripts/test` installs, the
/// test says so and checks only the final mode.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backup_file_is_private_from_its_first_byte() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/live.db", dir.path().display());
    let env = [("DATABASE_URL", url.as_str())];
    assert!(run(&["admin", "create-token", "--name", "t"], &env)
        .status
        .success());
    let copy = dir.path().join("private.db");
    let trace = dir.path().join("trace.txt");
    let strace = std::process::Command::new("strace").arg("-V").output();
    if strace.is_err() {
        eprintln!("WARNING: no strace here: only the backup's final mode is checked");
        let out = run(&["backup", copy.to_str().unwrap()], &env);
        assert!(out.status.success());
    } else {
        let status = std::process::Command::new("strace")
            .args(["-f", "-e", "trace=open,openat,creat", "-o"])
            .arg(&trace)
            .arg(env!("CARGO_BIN_EXE_leadrouter"))
            .args(["backup", copy.to_str().unwrap()])
            .env_clear()
            .env("DATABASE_URL", &url)
            .status()
            .unwrap();
        assert!(status.success());
        let calls = std::fs::read_to_string(&trace).unwrap();
        let name = copy.file_name().unwrap().to_str().unwrap();
        let creating: Vec<&str> = calls
            .lines()
            .filter(|l| l.contains(name) && l.contains("O_CREAT"))
            .collect();
        // The first open makes the file (O_EXCL) with 0600; later opens of the existing
        // file cannot change its mode; the journal is made 0600 too.
        let first = creating
            .first()
            .unwrap_or_else(|| panic!("the copy is created: {calls}"));
        assert!(
            first.contains("O_EXCL") && first.contains(", 0600)"),
            "created readable by others: {first}"
        );
        for call in creating.iter().filter(|c| c.contains("-journal")) {
            assert!(
                call.contains(", 0600)"),
                "a journal readable by others: {call}"
            );
        }
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&copy).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
}
