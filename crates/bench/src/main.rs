//! `leadrouter-bench`: measures leadrouter on this machine and prints one JSON object.
//!
//! It starts (unless `--server` names a running one) the release binary on a fresh database,
//! an HTTPS partner sink and a trivial axum endpoint (the ceiling), sets up partners and a
//! source over the admin API, fires leads from concurrent connections (or at a fixed rate),
//! waits for every accepted lead to reach the sink, and reports throughput, latencies,
//! errors, exactly-once delivery and the server's memory.

// Printing the report on stdout is this program's whole job.
#![allow(clippy::print_stdout)]

mod pages;
mod setup;
mod sink;

use anyhow::Context;
use clap::Parser;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug)]
#[command(
    name = "leadrouter-bench",
    about = "Benchmark leadrouter; prints one JSON object"
)]
struct Args {
    /// Leads to send.
    #[arg(long, default_value_t = 20_000)]
    leads: usize,
    /// Concurrent connections.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Send at this many leads per second instead of as fast as possible.
    #[arg(long)]
    rate: Option<u64>,
    /// `sqlite` (default) or `postgres` (needs --postgres-url or LEADROUTER_TEST_POSTGRES_URL).
    #[arg(long, default_value = "sqlite")]
    database: String,
    /// Admin URL of a PostgreSQL server; a fresh database is created on it.
    #[arg(long, env = "LEADROUTER_TEST_POSTGRES_URL")]
    postgres_url: Option<String>,
    /// The leadrouter binary to start.
    #[arg(long, default_value = "target/release/leadrouter")]
    binary: PathBuf,
    /// How long to wait for deliveries after the last lead is accepted.
    #[arg(long, default_value_t = 120)]
    drain_seconds: u64,
    /// Partners to spread leads over. Not given: 4, and then a second run with one partner
    /// (a market served by one broker), reported as `one_partner` beside the first.
    #[arg(long)]
    partners: Option<usize>,
    /// After the run, time the console's pages over the stored data.
    #[arg(long)]
    pages: bool,
    /// Before the run, store this many leads of history (with deliveries, attempts,
    /// conversions) and roll their figures up, as a server that has run a while would have.
    #[arg(long, default_value_t = 0)]
    seed_leads: usize,
    /// Keep the run's directory (its SQLite database, for a look afterwards) under this one.
    #[arg(long)]
    keep_in: Option<PathBuf>,
    /// Days the seeded history spreads over, ending now.
    #[arg(long, default_value_t = 365)]
    seed_days: i64,
    /// The source waits this many seconds for each lead's delivery (autologin): each
    /// request is answered once its lead reached the partner, and the report says how long
    /// after the partner's receipt the answer came (`wait_overhead_ms`).
    #[arg(long, default_value_t = 0)]
    wait_for_delivery: u8,
    /// Every partner buys by rules its leads all meet: 3 filters, an hourly cap and a daily
    /// budget (API.md "Partner rules"), and reads its answers by response rules (API.md
    /// "Partner replies": three rules and its own lead id), so that the run measures what
    /// checking, counting and reading them costs.
    #[arg(long)]
    rules: bool,
    /// The source has a postback URL (at the sink) for delivered leads: every lead makes
    /// a postback, and the report says how many arrived and how late.
    #[arg(long)]
    postbacks: bool,
    /// Servers on the one database (`--database postgres` only): each routes and delivers,
    /// and the leads are sent to them in turn.
    #[arg(long, default_value_t = 1)]
    instances: usize,
    /// Of the `--instances`, this many take leads in and neither route nor deliver
    /// (`LEADROUTER_ROUTING=off`, `LEADROUTER_DELIVERY=off`), and every lead is sent to
    /// them: the others route and deliver what they are woken for.
    #[arg(long, default_value_t = 0)]
    ingest_only: usize,
    /// Each partner's daily limit (not given: none to speak of). The run then waits until
    /// every lead is routed and every delivery done, and reports what any partner received
    /// over its cap (`over_cap`).
    #[arg(long)]
    cap: Option<i64>,
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_server(
    binary: &PathBuf,
    env: &[(String, String)],
    dir: &std::path::Path,
) -> anyhow::Result<Server> {
    let mut child = Command::new(binary)
        .arg("serve")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("PORT", "0")
        .env("LEADROUTER_BIND", "127.0.0.1")
        // LEADROUTER_BENCH_SERVER_LOG: the server's RUST_LOG, e.g. to trace one stage.
        .env(
            "RUST_LOG",
            std::env::var("LEADROUTER_BENCH_SERVER_LOG")
                .unwrap_or_else(|_| "warn,leadrouter::startup=info".into()),
        )
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| {
            format!(
                "starting {} (build it: cargo build --release -p leadrouter)",
                binary.display()
            )
        })?;
    let stderr = child.stderr.take().context("server stderr")?;
    let verbose = std::env::var_os("LEADROUTER_BENCH_SERVER_LOG").is_some();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line
                .split_whitespace()
                .find_map(|w| w.strip_prefix("addr="))
            {
                let _ = tx.send(addr.to_string());
            }
            if verbose || line.contains("ERROR") || line.contains("WARN") {
                eprintln!("server: {line}");
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .context("the server did not start")?;
    Ok(Server {
        child,
        base: format!("http://{addr}"),
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    (sorted[i] * 1000.0).round() / 1000.0
}

/// Fires `n` requests built by `body(i)` from `concurrency` connections (or at a
/// fixed rate), to `urls` in turn; returns per-request (index, start, latency, status, answer).
async fn fire(
    client: &reqwest::Client,
    urls: &[String],
    n: usize,
    concurrency: usize,
    rate: Option<u64>,
    body: impl Fn(usize) -> Value + Send + Sync + 'static,
) -> (Duration, Vec<(usize, Instant, Duration, u16, Value)>) {
    let body = Arc::new(body);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let pace = rate.map(|r| Duration::from_secs_f64(1.0 / r as f64));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, urls, body, next) = (
            client.clone(),
            urls.to_vec(),
            Arc::clone(&body),
            Arc::clone(&next),
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    return out;
                }
                if let Some(p) = pace {
                    let due = started + p * i as u32;
                    tokio::time::sleep_until(due.into()).await;
                }
                let t0 = Instant::now();
                let r = client
                    .post(&urls[i % urls.len()])
                    .json(&body(i))
                    .send()
                    .await;
                let (status, answer) = match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        (s, r.json::<Value>().await.unwrap_or(Value::Null))
                    }
                    Err(_) => (0, Value::Null),
                };
                out.push((i, t0, t0.elapsed(), status, answer));
            }
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    (started.elapsed(), all)
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}

/// The ceiling: the same load against an axum handler that does nothing.
async fn ceiling(client: &reqwest::Client, args: &Args) -> anyhow::Result<f64> {
    let app = axum::Router::new().route(
        "/ingest",
        axum::routing::post(|| async {
            (
                axum::http::StatusCode::ACCEPTED,
                axum::Json(json!({"success": true})),
            )
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/ingest", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (took, results) = fire(
        client,
        &[url],
        args.leads,
        args.concurrency,
        None,
        lead_body,
    )
    .await;
    let ok = results.iter().filter(|r| r.3 == 202).count();
    Ok(ok as f64 / took.as_secs_f64())
}

/// A landing page's lead: with its consent evidence (one of four texts, as a few forms
/// with their own wording would send).
fn lead_body(i: usize) -> Value {
    json!({"first_name": "Bench", "last_name": format!("Lead{i}"), "email": format!("bench{i}@example.com"),
           "country": "germany", "niche": "forex", "type": if i.is_multiple_of(2) { "premium" } else { "raw" },
           "external_id": format!("bench-{i}"),
           "consent": {"text": format!("Ich willige ein, telefonisch kontaktiert zu werden (Formular {}).", i % 4),
                       "given_at": "2026-11-30T10:00:00Z", "ip": format!("203.0.113.{}", i % 250),
                       "user_agent": "Mozilla/5.0 (X11; Linux x86_64)", "page_url": "https://lp.example/forex"}})
}

type Sent = (usize, Instant, Duration, u16, Value);

/// Leads sent before the run, one at a time.
const FIRST_LEADS: usize = 21;

/// The first lead's answer time on the fresh server, beside the median of the next 20 sent
/// one at a time: what the first lead pays for anything loaded on first use.
async fn first_leads(client: &reqwest::Client, url: &str) -> Value {
    let mut ms = Vec::with_capacity(FIRST_LEADS);
    for i in 0..FIRST_LEADS {
        let t0 = Instant::now();
        let ok = client
            .post(url)
            .json(&{
                // With a phone: its metadata is the largest thing read on first use.
                let mut lead = lead_body(1_000_000_000 + i);
                lead["phone"] = json!(format!("+49151{:08}", 12_345_000 + i));
                lead
            })
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if !ok {
            return Value::Null;
        }
        ms.push(t0.elapsed().as_secs_f64() * 1000.0);
    }
    let first = ms[0];
    let rest = sorted_ms(ms[1..].iter().map(|m| Duration::from_secs_f64(m / 1000.0)));
    let median = percentile(&rest, 0.5);
    json!({"first": (first * 1000.0).round() / 1000.0, "median_of_next": median,
           "ratio": ((first / median.max(1e-9)) * 100.0).round() / 100.0})
}

fn sorted_ms(durations: impl Iterator<Item = Duration>) -> Vec<f64> {
    let mut ms: Vec<f64> = durations.map(|d| d.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// Waits until no lead is queued or assigned (each routed, each delivery done) and
/// returns how long that took, in seconds.
async fn settle(database_url: &str, drain_seconds: u64) -> anyhow::Result<f64> {
    let url: leadrouter_store::DatabaseUrl = database_url.parse()?;
    let store = leadrouter_store::Store::connect(&url).await?;
    let started = Instant::now();
    loop {
        let open: i64 = store
            .waiting_lead_counts()
            .await?
            .iter()
            .filter(|(status, _)| *status != leadrouter_store::leads::LeadStatus::Held)
            .map(|(_, n)| n)
            .sum();
        if open == 0 || started.elapsed() > Duration::from_secs(drain_seconds) {
            return Ok((started.elapsed().as_secs_f64() * 10.0).round() / 10.0);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What reached the sink of the accepted leads.
struct Arrived {
    to_partner_ms: Vec<f64>,
    delivered_per_s: f64,
    missing: usize,
    duplicates: u32,
    wanted: usize,
}

/// Waits (up to `drain_seconds`) for every accepted lead at the sink (or, under partners'
/// caps, for as many as the `cap` in all), then measures.
async fn arrivals(
    sink: &sink::Sink,
    accepted: &[&Sent],
    results: &[Sent],
    drain_seconds: u64,
    cap: Option<usize>,
) -> Arrived {
    let wanted: Vec<(i64, Instant)> = accepted
        .iter()
        .filter_map(|r| r.4["lead_id"].as_i64().map(|id| (id, r.1)))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(drain_seconds);
    loop {
        let arrived = {
            let a = sink.arrivals.lock().expect("arrivals");
            wanted
                .iter()
                .filter(|(id, _)| a.leads.contains_key(id))
                .count()
        };
        if arrived >= cap.unwrap_or(usize::MAX).min(wanted.len()) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_send = results
        .iter()
        .map(|r| r.1)
        .min()
        .unwrap_or_else(Instant::now);
    let arrivals = sink.arrivals.lock().expect("arrivals");
    let mut to_partner_ms = Vec::with_capacity(wanted.len());
    let mut last_arrival = first_send;
    let mut missing = 0;
    for (id, sent) in &wanted {
        match arrivals.leads.get(id) {
            Some((at, _)) => {
                to_partner_ms.push(at.duration_since(*sent).as_secs_f64() * 1000.0);
                last_arrival = last_arrival.max(*at);
            }
            None => missing += 1,
        }
    }
    let duplicates: u32 = arrivals
        .leads
        .values()
        .map(|(_, n)| n.saturating_sub(1))
        .sum();
    to_partner_ms.sort_by(f64::total_cmp);
    let delivered_per_s = (wanted.len() - missing) as f64
        / last_arrival
            .duration_since(first_send)
            .as_secs_f64()
            .max(1e-9);
    Arrived {
        to_partner_ms,
        delivered_per_s,
        missing,
        duplicates,
        wanted: wanted.len(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    args.binary = std::fs::canonicalize(&args.binary).with_context(|| {
        format!(
            "{} not found (build it: cargo build --release -p leadrouter)",
            args.binary.display()
        )
    })?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let report = match args.partners {
        Some(n) => run(&args, n).await?,
        None => {
            let mut report = run(&args, 4).await?;
            // The same again with one partner: a market served by one broker must deliver
            // what the engine can, not what one partner's share of it is.
            let one = run(&args, 1).await?;
            let ratio = match (
                one["delivered_leads_per_s"].as_f64(),
                report["delivered_leads_per_s"].as_f64(),
            ) {
                (Some(a), Some(b)) if b > 0.0 => Some((a / b * 1000.0).round() / 1000.0),
                _ => None,
            };
            report["one_partner"] = json!({
                "delivered_leads_per_s": one["delivered_leads_per_s"],
                "ratio_to_four_partners": ratio,
                "ingest_requests_per_s": one["ingest_requests_per_s"],
                "arrival_to_partner_ms": one["arrival_to_partner_ms"],
                "exactly_once": one["exactly_once"],
                "missing": one["missing"],
                "duplicates": one["duplicates"],
            });
            report
        }
    };
    println!("{report}");
    Ok(())
}

/// One run with `partners` partners on a fresh server and database: its report.
async fn run(args: &Args, partners: usize) -> anyhow::Result<Value> {
    let dir = setup::run_dir(args.keep_in.as_deref())?;
    let (sink, ca_file) = sink::Sink::with_ca_in(dir.path()).await?;

    let (database_url, _pg) = setup::database(args, dir.path()).await?;
    let env = setup::server_env(&database_url, &ca_file);
    let token = setup::admin_token(&args.binary, &env, dir.path())?;
    let seeded = setup::seed(&database_url, args.seed_leads, args.seed_days).await?;
    if args.instances > 1 && args.database != "postgres" {
        anyhow::bail!("--instances needs --database postgres (one database for all of them)");
    }
    if args.ingest_only >= args.instances.max(1) {
        anyhow::bail!("--ingest-only must leave at least one of the --instances routing");
    }
    let mut ingest_env = env.clone();
    ingest_env.extend([
        ("LEADROUTER_ROUTING".to_string(), "off".to_string()),
        ("LEADROUTER_DELIVERY".to_string(), "off".to_string()),
    ]);
    let servers = (0..args.instances.max(1))
        .map(|i| {
            let env = if i < args.ingest_only {
                &ingest_env
            } else {
                &env
            };
            start_server(&args.binary, env, dir.path())
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let server = &servers[0];
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .build()?;

    let inbound_path = setup::partners_and_source(
        &client,
        &server.base,
        &token,
        sink.port,
        &setup::Stage {
            partners,
            wait_for_delivery: args.wait_for_delivery,
            rules: args.rules,
            postbacks: args.postbacks,
            cap: args.cap,
        },
    )
    .await?;
    // Leads go to the ingest-only instances when there are any, else to every instance.
    let takers = match args.ingest_only {
        0 => &servers[..],
        n => &servers[..n],
    };
    let inbound: Vec<String> = takers
        .iter()
        .map(|s| format!("{}{inbound_path}", s.base))
        .collect();

    let first_leads = first_leads(&client, &inbound[0]).await;
    let ceiling_rps = ceiling(&client, args).await?;
    let (took, results) = fire(
        &client,
        &inbound,
        args.leads,
        args.concurrency,
        args.rate,
        lead_body,
    )
    .await;
    // 202: queued; 200: delivered within a waiting source's wait.
    let accepted: Vec<_> = results
        .iter()
        .filter(|r| matches!(r.3, 200 | 202))
        .collect();
    let errors = results.len() - accepted.len() + (args.leads - results.len());
    let ingest_rps = accepted.len() as f64 / took.as_secs_f64();
    let ingest_ms = sorted_ms(accepted.iter().map(|r| r.2));

    // Under caps not every lead is sold: the run waits until each is routed and each
    // delivery done instead.
    let settled = match args.cap {
        Some(_) => Some(settle(&database_url, args.drain_seconds).await?),
        None => None,
    };
    let arrived = arrivals(
        &sink,
        &accepted,
        &results,
        args.drain_seconds,
        args.cap.map(|_| 0),
    )
    .await;
    let over_cap = args.cap.map(|cap| {
        let a = sink.arrivals.lock().expect("arrivals");
        let mut by_partner: Vec<_> = a
            .by_path
            .iter()
            .map(|(p, ids)| (p.clone(), ids.len()))
            .collect();
        by_partner.sort();
        json!({"cap": cap, "settled_s": settled, "received_by_partner": by_partner,
               "over_cap": by_partner.iter().map(|(_, n)| (*n as i64 - cap).max(0)).sum::<i64>()})
    });
    let Arrived {
        to_partner_ms,
        delivered_per_s,
        missing,
        duplicates,
        wanted,
    } = arrived;
    let wait_overhead_ms = (args.wait_for_delivery > 0).then(|| {
        let arrivals = sink.arrivals.lock().expect("arrivals");
        let after_receipt = accepted.iter().filter(|r| r.3 == 200).filter_map(|r| {
            let (at, _) = arrivals.leads.get(&r.4["lead_id"].as_i64()?)?;
            (r.1 + r.2).checked_duration_since(*at)
        });
        let ms = sorted_ms(after_receipt);
        json!({"answered": ms.len(), "p50": percentile(&ms, 0.50), "p99": percentile(&ms, 0.99),
               "max": percentile(&ms, 1.0)})
    });
    // Postbacks: wait for one per delivered lead (up to the drain time), then say how many
    // came and how long after the last lead reached the partner the last one did.
    let postbacks = if args.postbacks {
        let deadline = Instant::now() + Duration::from_secs(args.drain_seconds);
        loop {
            let got = sink.arrivals.lock().expect("arrivals").postbacks.len();
            if got >= wanted - missing || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let a = sink.arrivals.lock().expect("arrivals");
        let last_lead = a.leads.values().map(|(at, _)| *at).max();
        let last_postback = a.postbacks.values().copied().max();
        let lag = match (last_lead, last_postback) {
            (Some(l), Some(p)) => p.checked_duration_since(l).map(|d| d.as_secs_f64()),
            _ => None,
        };
        Some(json!({"received": a.postbacks.len(), "after_last_lead_s": lag}))
    } else {
        None
    };
    let pages = if args.pages {
        Some(pages::measure(&server.base).await?)
    } else {
        None
    };
    let report = json!({
        "postbacks": postbacks,
        "wait_for_delivery": args.wait_for_delivery,
        "wait_overhead_ms": wait_overhead_ms,
        "console_pages": pages,
        "seeded": seeded,
        "machine": {"cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0), "os": std::env::consts::OS},
        "database": args.database,
        "leads": args.leads,
        "concurrency": args.concurrency,
        "offered_rate": args.rate,
        "ceiling_requests_per_s": ceiling_rps.round(),
        "ingest_requests_per_s": ingest_rps.round(),
        "ingest_ratio_of_ceiling": (ingest_rps / ceiling_rps * 1000.0).round() / 1000.0,
        "ingest_latency_ms": {"p50": percentile(&ingest_ms, 0.50), "p99": percentile(&ingest_ms, 0.99)},
        "delivered_leads_per_s": delivered_per_s.round(),
        "arrival_to_partner_ms": {"p50": percentile(&to_partner_ms, 0.50), "p99": percentile(&to_partner_ms, 0.99),
                                  "max": percentile(&to_partner_ms, 1.0)},
        "errors": errors,
        "accepted": accepted.len(),
        "arrived": wanted - missing,
        "missing": missing,
        "duplicates": duplicates,
        "exactly_once": missing == 0 && duplicates == 0,
        "server_rss_mb": rss_mb(server.child.id()),
        "instances": servers.len(),
        "ingest_only_instances": args.ingest_only,
        "instances_rss_mb": servers.iter().map(|s| rss_mb(s.child.id())).collect::<Vec<_>>(),
        "caps": over_cap,
        "partners": partners,
        "first_lead_ms": first_leads,
    });
    Ok(report)
}
