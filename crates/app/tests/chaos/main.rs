//! The chaos suite: the promises (no acknowledged lead lost, no lead sent twice but with
//! the same `webhook-id`, no cap passed, no 2xx for a lead not stored) kept while things
//! go wrong on purpose: the server killed with SIGKILL under a stream of leads, partners
//! that fail, hang, reset, trickle or flood, PostgreSQL crashing mid-run, three instances
//! racing for the same caps, a partner calling half its leads duplicates.
//!
//! Each scenario runs the real binary (`leadrouter serve`) against real HTTPS partners,
//! one scenario at a time (they load the machine; running them side by side would measure
//! each other), and reports its figures as one JSON line on stderr (`chaos: {...}`) and in
//! `target/chaos/report.jsonl`.

#[allow(dead_code)]
#[macro_use]
#[path = "../it/support/mod.rs"]
mod support;

mod caps;
mod flaky;
mod kills;
mod outage;
mod partner;
mod postgres;
mod verdicts;

use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One scenario at a time.
pub static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Prints a scenario's figures as one JSON line and appends it to
/// `target/chaos/report.jsonl`.
pub fn report(line: Value) {
    use std::io::Write;
    eprintln!("chaos: {line}");
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/chaos");
    std::fs::create_dir_all(&dir).expect("report directory");
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("report.jsonl"))
        .expect("report file");
    writeln!(file, "{line}").expect("write the report");
}

/// A free port on 127.0.0.1 (a restarted server comes back on the same one).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The environment of a server whose partners are the test's HTTPS servers.
pub fn server_env(database_url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let ca = support::receiver::tls().ca_file.display().to_string();
    let mut env = vec![
        ("DATABASE_URL".to_string(), database_url.to_string()),
        ("LEADROUTER_EXTRA_ROOT_CERTS".to_string(), ca),
        (
            "LEADROUTER_WEBHOOK_ALLOW_CIDRS".to_string(),
            "127.0.0.1/32".to_string(),
        ),
        (
            "RUST_LOG".to_string(),
            "warn,leadrouter::startup=info".to_string(),
        ),
    ];
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

pub fn start(env: &[(String, String)], dir: &std::path::Path) -> support::process::Server {
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    support::process::Server::start(&pairs, dir)
}

/// An admin token made with the binary's own CLI.
pub fn admin_token(database_url: &str) -> String {
    let out = support::process::run(
        &["admin", "create-token", "--name", "chaos"],
        &[("DATABASE_URL", database_url)],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `POST {base}{path}` as the operator; the answer's JSON.
pub async fn admin_post(base: &str, admin: &str, path: &str, body: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .bearer_auth(admin)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {body}");
    body
}

/// A partner for German forex leads at `url`, with these settings on top.
pub async fn add_partner(base: &str, admin: &str, name: &str, url: &str, extra: Value) -> i64 {
    let mut spec = json!({"name": name, "country": "germany", "niche": "forex",
        "daily_limit": 100_000, "premium_ratio": 50, "webhook_url": url});
    for (k, v) in extra.as_object().unwrap() {
        spec[k] = v.clone();
    }
    admin_post(base, admin, "/api/admin/partners", spec).await["id"]
        .as_i64()
        .unwrap()
}

/// A webhook source; its inbound path.
pub async fn source(base: &str, admin: &str) -> String {
    let s = admin_post(
        base,
        admin,
        "/api/admin/sources",
        json!({"name": "Chaos source", "kind": "webhook"}),
    )
    .await;
    format!("/api/webhook/{}", s["token"].as_str().unwrap())
}

/// The `i`th lead of a run: a new person each time, premium and raw in turn.
pub fn lead(i: usize) -> Value {
    json!({"first_name": "Chaos", "last_name": format!("Lead{i}"),
           "email": format!("chaos{i}@example.com"), "country": "de", "niche": "forex",
           "type": if i.is_multiple_of(2) { "premium" } else { "raw" },
           "external_id": format!("chaos-{i}")})
}

/// One lead sent, as its source saw it: the status (0: no answer at all), the lead id of a
/// 2xx, and how long the answer took.
#[derive(Debug, Clone)]
pub struct Sent {
    pub status: u16,
    pub lead_id: Option<i64>,
    pub took: Duration,
    pub at: Instant,
}

/// Leads sent at a steady rate to `urls` in turn, each on its own (a slow answer does not
/// hold the next lead back), until stopped.
pub struct Stream {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Sent>>,
}

impl Stream {
    pub fn start(urls: Vec<String>, per_second: u64, limit: Option<usize>) -> Stream {
        let stop = Arc::new(AtomicBool::new(false));
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        let flag = Arc::clone(&stop);
        let task = tokio::spawn(async move {
            let period = Duration::from_secs_f64(1.0 / per_second as f64);
            let started = tokio::time::Instant::now();
            let mut sends = tokio::task::JoinSet::new();
            let mut i = 0usize;
            while !flag.load(Ordering::Relaxed) && limit.is_none_or(|n| i < n) {
                let (client, url) = (client.clone(), urls[i % urls.len()].clone());
                sends.spawn(async move {
                    let at = Instant::now();
                    let answer = client.post(&url).json(&lead(i)).send().await;
                    let (status, lead_id) = match answer {
                        Ok(r) => {
                            let status = r.status().as_u16();
                            let body: Value = r.json().await.unwrap_or(Value::Null);
                            (status, body["lead_id"].as_i64())
                        }
                        Err(_) => (0, None),
                    };
                    Sent {
                        status,
                        lead_id: lead_id.filter(|_| (200..300).contains(&status)),
                        took: at.elapsed(),
                        at,
                    }
                });
                i += 1;
                tokio::time::sleep_until(started + period * i as u32).await;
            }
            let mut sent = Vec::with_capacity(i);
            while let Some(s) = sends.join_next().await {
                sent.push(s.expect("a send"));
            }
            sent
        });
        Stream { stop, task }
    }

    /// Stops sending and returns every lead sent, once each has its answer.
    pub async fn stop(self) -> Vec<Sent> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the stream")
    }

    /// Waits until a stream with a `limit` has sent them all.
    pub async fn finish(self) -> Vec<Sent> {
        self.task.await.expect("the stream")
    }
}

/// The acknowledged (2xx) lead ids of a stream.
pub fn acknowledged(sent: &[Sent]) -> std::collections::BTreeSet<i64> {
    sent.iter().filter_map(|s| s.lead_id).collect()
}

/// Milliseconds, rounded to a tenth.
pub fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

/// p50, p99 and max of some durations, in milliseconds.
pub fn spread(mut ds: Vec<Duration>) -> Value {
    if ds.is_empty() {
        return Value::Null;
    }
    ds.sort();
    let at = |p: f64| ms(ds[((ds.len() - 1) as f64 * p).round() as usize]);
    json!({"p50": at(0.5), "p99": at(0.99), "max": at(1.0)})
}

/// What the store knows of a lead the suite misses: its state, its deliveries (status,
/// attempts, next attempt, lease) and its history, to tell a lead still leased (it will
/// be sent when the lease ends) from one that stalled.
pub async fn state_of(store: &leadrouter_store::Store, database_url: &str, id: i64) -> String {
    use sqlx::Row;
    sqlx::any::install_default_drivers();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let lead = store.lead(id).await.ok().flatten();
    let events = store.lead_events(id).await.unwrap_or_default();
    let mut deliveries = Vec::new();
    if let Ok(pool) = sqlx::AnyPool::connect(database_url).await {
        let rows = sqlx::query(
            "SELECT id, partner_id, status, attempt_count, next_attempt_at, lease_until \
             FROM deliveries WHERE lead_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&pool)
        .await
        .unwrap_or_default();
        for r in rows {
            let lease: Option<i64> = r.try_get("lease_until").ok();
            let next: Option<i64> = r.try_get("next_attempt_at").ok();
            deliveries.push(format!(
                "delivery {} to partner {}: {} after {} attempts, next attempt in {:?} ms, lease ends in {:?} ms",
                r.try_get::<i64, _>("id").unwrap_or(0),
                r.try_get::<i64, _>("partner_id").unwrap_or(0),
                r.try_get::<String, _>("status").unwrap_or_default(),
                r.try_get::<i64, _>("attempt_count").unwrap_or(0),
                next.map(|t| t - now),
                lease.map(|t| t - now),
            ));
        }
        pool.close().await;
    }
    format!(
        "lead {id}: {:?}, updated {:?} ms ago\n  {}\n  history: {events:?}",
        lead.as_ref().map(|l| (&l.status, l.partner_id)),
        lead.as_ref().map(|l| now - l.updated_at),
        deliveries.join("\n  "),
    )
}
