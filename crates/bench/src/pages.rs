//! `--pages`: after the run, the console's pages over the data just stored, each fetched
//! several times by a logged-in operator; the report gives each page's median and worst
//! time (loopback, so close to the server's own time).

use anyhow::{bail, Context};
use reqwest::redirect::Policy;
use serde_json::{json, Value};
use std::time::Instant;

const TIMES: usize = 5;

/// The first-run setup token the bench's server is started with.
pub const SETUP_TOKEN: &str = "bench-setup-token";

pub async fn measure(base: &str) -> anyhow::Result<Value> {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()?;
    let password = "bench password, not a secret";
    let r = client
        .post(format!("{base}/admin/setup"))
        .form(&[
            ("setup_token", SETUP_TOKEN),
            ("email", "bench@leadrouter.test"),
            ("password", password),
            ("confirm", password),
        ])
        .send()
        .await?;
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_string)
        .context("first-run setup gave no session")?;
    let lead = "bench77777@example.com";
    let paths = [
        "/admin",
        "/admin/partners",
        "/admin/partners/1",
        "/admin/partners/new",
        "/admin/partners/1/edit",
        "/admin/leads",
        "/admin/leads?status=delivered",
        "/admin/leads?partner_id=2",
        "/admin/leads?country=germany&niche=forex",
        &format!("/admin/leads?q={lead}"),
        "/admin/leads?q=nobody-at-all",
        "/admin/leads?q=77777",
        "/admin/leads?from=2020-01-01&to=2020-01-31",
        "/admin/leads/77777",
        "/admin/deliveries?status=failed",
        "/admin/sources",
        "/admin/sources/1",
        "/admin/markets",
        "/admin/rejected",
        "/admin/notifications",
        "/admin/analytics",
        "/admin/analytics?group_by=partner",
        "/admin/analytics?group_by=country&day=partner",
        "/admin/analytics?from=2026-01-01&to=2026-12-31&group_by=partner",
        "/admin/settings",
        "/admin/audit",
        "/admin/audit?entity=partner&entity_id=1",
        "/admin/leads/77777/evidence.json",
    ];
    let mut out = serde_json::Map::new();
    for path in paths {
        let mut ms = Vec::with_capacity(TIMES);
        for _ in 0..TIMES {
            let started = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await?;
            let status = r.status();
            r.bytes().await?;
            ms.push(started.elapsed().as_secs_f64() * 1000.0);
            if status != 200 {
                bail!("{path}: {status}");
            }
        }
        ms.sort_by(f64::total_cmp);
        out.insert(
            path.to_string(),
            json!({"median_ms": (ms[TIMES / 2] * 10.0).round() / 10.0, "max_ms": (ms[TIMES - 1] * 10.0).round() / 10.0}),
        );
    }
    Ok(Value::Object(out))
}
