//! The benchmark harness itself, run small: it starts the server on a fresh database, fires
//! leads at it and prints the one JSON object the README describes, with every accepted
//! lead delivered to the HTTPS sink exactly once.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The server binary, built beside the harness (`cargo test --workspace` builds both).
fn server_binary() -> PathBuf {
    let bench = Path::new(env!("CARGO_BIN_EXE_leadrouter-bench"));
    let server = bench.with_file_name(format!("leadrouter{}", std::env::consts::EXE_SUFFIX));
    assert!(
        server.exists(),
        "{} is missing: build the server first (cargo build -p leadrouter)",
        server.display()
    );
    server
}

fn run(args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_leadrouter-bench"))
        .args(args)
        .arg("--binary")
        .arg(server_binary())
        .env_remove("LEADROUTER_DELIVERY")
        .output()
        .expect("running the harness");
    assert!(
        out.status.success(),
        "the harness failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON object on stdout")
}

/// Whether a PostgreSQL server is given (else the test is skipped, said on stderr, unless
/// `LEADROUTER_TEST_REQUIRE_POSTGRES=1` makes it a failure).
fn postgres_here() -> bool {
    if std::env::var("LEADROUTER_TEST_POSTGRES_URL").is_ok() {
        return true;
    }
    assert!(
        std::env::var("LEADROUTER_TEST_REQUIRE_POSTGRES").as_deref() != Ok("1"),
        "LEADROUTER_TEST_POSTGRES_URL is not set but LEADROUTER_TEST_REQUIRE_POSTGRES=1"
    );
    eprintln!("SKIPPED (PostgreSQL half): LEADROUTER_TEST_POSTGRES_URL is not set");
    false
}

fn check_report(report: &Value, leads: u64) {
    for key in [
        "ceiling_requests_per_s",
        "ingest_requests_per_s",
        "ingest_ratio_of_ceiling",
        "delivered_leads_per_s",
        "errors",
        "exactly_once",
        "server_rss_mb",
    ] {
        assert!(report.get(key).is_some(), "{key} missing from {report}");
    }
    assert_eq!(report["leads"], leads);
    assert_eq!(report["accepted"], leads, "{report}");
    assert_eq!(report["arrived"], leads, "{report}");
    assert_eq!(report["missing"], 0);
    assert_eq!(report["duplicates"], 0);
    assert_eq!(report["errors"], 0);
    assert_eq!(report["exactly_once"], true);
    assert!(report["ceiling_requests_per_s"].as_f64().unwrap() > 0.0);
    assert!(report["ingest_requests_per_s"].as_f64().unwrap() > 0.0);
    assert!(report["delivered_leads_per_s"].as_f64().unwrap() > 0.0);
    for latency in ["ingest_latency_ms", "arrival_to_partner_ms"] {
        let p50 = report[latency]["p50"].as_f64().unwrap();
        let p99 = report[latency]["p99"].as_f64().unwrap();
        assert!(0.0 < p50 && p50 <= p99, "{latency}: {report}");
    }
    let max = report["arrival_to_partner_ms"]["max"].as_f64().unwrap();
    assert!(report["arrival_to_partner_ms"]["p99"].as_f64().unwrap() <= max);
}

#[test]
fn the_harness_reports_a_run_with_every_lead_delivered_once() {
    let report = run(&[
        "--leads",
        "300",
        "--concurrency",
        "8",
        "--drain-seconds",
        "60",
    ]);
    check_report(&report, 300);
    assert_eq!(report["concurrency"], 8);
    assert_eq!(report["offered_rate"], Value::Null);
    // By default a second run with one partner, reported beside the first.
    assert_eq!(report["partners"], 4);
    let one = &report["one_partner"];
    assert_eq!(one["exactly_once"], true, "{report}");
    assert!(
        one["delivered_leads_per_s"].as_f64().unwrap() > 0.0,
        "{report}"
    );
    assert!(
        one["ratio_to_four_partners"].as_f64().unwrap() > 0.0,
        "{report}"
    );
}

#[test]
fn the_harness_reports_a_run_at_a_fixed_offered_rate() {
    let report = run(&[
        "--leads",
        "100",
        "--rate",
        "200",
        "--drain-seconds",
        "60",
        "--partners",
        "2",
    ]);
    check_report(&report, 100);
    assert_eq!(report["offered_rate"], 200);
    // Partners named: that run alone.
    assert_eq!(report["partners"], 2);
    assert!(report.get("one_partner").is_none(), "{report}");
}

#[test]
fn three_instances_on_one_postgresql_fill_the_partners_caps_and_not_one_lead_more() {
    if !postgres_here() {
        return;
    }
    // Three servers, each routing and delivering, the leads sent to them in turn; three
    // partners taking 20 a day each; 221 leads (the 21 of the first-lead timing too).
    let report = run(&[
        "--database",
        "postgres",
        "--instances",
        "3",
        "--partners",
        "3",
        "--cap",
        "20",
        "--leads",
        "200",
        "--concurrency",
        "16",
        "--drain-seconds",
        "60",
    ]);
    assert_eq!(report["instances"], 3, "{report}");
    assert_eq!(report["accepted"], 200, "{report}");
    let caps = &report["caps"];
    assert_eq!(caps["over_cap"], 0, "{report}");
    assert_eq!(
        caps["received_by_partner"],
        serde_json::json!([["/p0", 20], ["/p1", 20], ["/p2", 20]]),
        "{report}"
    );
    assert_eq!(report["duplicates"], 0, "{report}");
}

#[test]
fn leads_taken_in_by_an_instance_that_does_not_route_are_delivered_by_the_one_that_does() {
    if !postgres_here() {
        return;
    }
    // Instance A (LEADROUTER_ROUTING=off, LEADROUTER_DELIVERY=off) takes every lead in;
    // instance B routes and delivers them, woken by A's notifications.
    let report = run(&[
        "--database",
        "postgres",
        "--instances",
        "2",
        "--ingest-only",
        "1",
        "--partners",
        "2",
        "--leads",
        "300",
        "--rate",
        "100",
        "--drain-seconds",
        "60",
    ]);
    check_report(&report, 300);
    assert_eq!(report["instances"], 2, "{report}");
    assert_eq!(report["ingest_only_instances"], 1, "{report}");
    eprintln!(
        "two instances, leads to the one that does not route, at 100/s: arrival {}",
        report["arrival_to_partner_ms"]
    );
}
