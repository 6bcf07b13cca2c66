//! The bench's stage: a fresh database, an admin token, partners pointing at the sink and
//! a webhook source, all through the binary and its admin API as an operator would.

use anyhow::{bail, Context};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// The database URL to run on, and the PostgreSQL database to drop afterwards.
pub async fn database(
    args: &crate::Args,
    dir: &Path,
) -> anyhow::Result<(String, Option<leadrouter_store::testing::TestDatabase>)> {
    Ok(match args.database.as_str() {
        "sqlite" => (format!("sqlite://{}/bench.db", dir.display()), None),
        "postgres" => {
            let Some(admin) = &args.postgres_url else {
                bail!("--database postgres needs --postgres-url")
            };
            std::env::set_var(leadrouter_store::testing::POSTGRES_URL_VAR, admin);
            let db = leadrouter_store::testing::TestDatabase::postgres()
                .await
                .context("creating a database")?;
            (db.url.expose().to_string(), Some(db))
        }
        other => bail!("--database: unknown \"{other}\" (sqlite or postgres)"),
    })
}

/// The server's environment: the database, the sink's CA, loopback partners allowed.
pub fn server_env(database_url: &str, ca_file: &Path) -> Vec<(String, String)> {
    vec![
        ("DATABASE_URL".to_string(), database_url.to_string()),
        (
            "LEADROUTER_EXTRA_ROOT_CERTS".to_string(),
            ca_file.display().to_string(),
        ),
        (
            "LEADROUTER_WEBHOOK_ALLOW_CIDRS".to_string(),
            "127.0.0.1/32".to_string(),
        ),
        ("LEADROUTER_DEDUPE_WINDOW".to_string(), "30d".to_string()),
        // `--pages` signs the first operator up with it.
        (
            "LEADROUTER_SETUP_TOKEN".to_string(),
            crate::pages::SETUP_TOKEN.to_string(),
        ),
        // As a deployment runs: every stored secret sealed.
        (
            "LEADROUTER_SECRET_KEY".to_string(),
            "YmVuY2gta2V5LWJlbmNoLWtleS1iZW5jaC1rZXktMzI=".to_string(),
        ),
    ]
}

/// A new admin token, from the binary's own CLI.
pub fn admin_token(binary: &Path, env: &[(String, String)], dir: &Path) -> anyhow::Result<String> {
    let token = Command::new(binary)
        .args(["admin", "create-token", "--name", "bench"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir)
        .output()
        .with_context(|| format!("running {}", binary.display()))?;
    if !token.status.success() {
        bail!(
            "create-token failed: {}",
            String::from_utf8_lossy(&token.stderr)
        );
    }
    Ok(String::from_utf8(token.stdout)?.trim().to_string())
}

/// `partners` partners (no cap to speak of) sending to the sink, and a webhook source;
/// returns the source's inbound path.
/// What the bench's partners and source are set up with.
#[derive(Clone, Copy)]
pub struct Stage {
    pub partners: usize,
    pub wait_for_delivery: u8,
    pub rules: bool,
    pub postbacks: bool,
    /// Each partner's daily limit.
    pub cap: Option<i64>,
}

pub async fn partners_and_source(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    sink_port: u16,
    stage: &Stage,
) -> anyhow::Result<String> {
    let Stage {
        partners,
        wait_for_delivery,
        rules,
        postbacks,
        cap,
    } = *stage;
    for p in 0..partners {
        let mut partner = json!({"name": format!("Sink {p}"), "country": "germany", "niche": "forex",
            "daily_limit": cap.unwrap_or(1_000_000), "premium_ratio": 50,
            "webhook_url": format!("https://127.0.0.1:{}/p{p}", sink_port)});
        if rules {
            // Rules every bench lead meets, so that they are checked and counted, never bind.
            partner["filters"] = json!([
                {"field": "email_domain", "op": "not_in", "value": ["blocked.example", "spam.example"]},
                {"field": "lead_type", "op": "in", "value": ["premium", "raw"]},
                {"field": "last_name", "op": "starts_with", "value": "lead"}
            ]);
            partner["caps"] = json!({"hourly": 100_000_000});
            partner["price_per_lead"] = json!("1.50");
            partner["budget"] = json!({"daily": 100_000_000});
            // And reads the partner's verdict from its answer, as a broker CRM's is read.
            partner["response"] = json!({
                "rules": [
                    {"if": {"path": "success", "equals": false}, "then": "rejected"},
                    {"if": {"path": "error", "contains": "exist"}, "then": "duplicate"},
                    {"if": {"body_contains": "try later"}, "then": "retry"}
                ],
                "partner_lead_id": "data.id",
                "reason": "message"
            });
        }
        let r: Value = client
            .post(format!("{}/api/admin/partners", base))
            .bearer_auth(token)
            .json(&partner)
            .send()
            .await?
            .json()
            .await?;
        if r["id"].as_i64().is_none() {
            bail!("creating a partner failed: {r}");
        }
    }
    let mut source = if wait_for_delivery > 0 {
        json!({"name": "bench", "kind": "webhook", "wait_for_delivery": wait_for_delivery})
    } else {
        // (Servers before the setting refuse it: a plain source runs against them too.)
        json!({"name": "bench", "kind": "webhook"})
    };
    if postbacks {
        source["postback_url"] = json!(format!(
            "https://127.0.0.1:{sink_port}/postback?lead={{lead_id}}&event={{event}}&payout={{payout}}"
        ));
        source["postback_events"] = json!(["delivered"]);
        source["cost_per_lead"] = json!("2.00");
    }
    let source: Value = client
        .post(format!("{}/api/admin/sources", base))
        .bearer_auth(token)
        .json(&source)
        .send()
        .await?
        .json()
        .await?;
    Ok(format!(
        "/api/webhook/{}",
        source["token"].as_str().context("source token")?
    ))
}

/// Stores `leads` leads of history over `days` days and rolls their figures up; reports
/// how long each took (nothing when `leads` is 0).
pub async fn seed(database_url: &str, leads: usize, days: i64) -> anyhow::Result<Value> {
    if leads == 0 {
        return Ok(Value::Null);
    }
    let url: leadrouter_store::DatabaseUrl = database_url.parse()?;
    let store = leadrouter_store::Store::connect(&url).await?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis() as i64;
    let t = std::time::Instant::now();
    store.seed_history(leads, days, now).await?;
    let seeded_s = t.elapsed().as_secs_f64();
    let t = std::time::Instant::now();
    let rolled = store.roll_figures(now).await?;
    let rolled_s = t.elapsed().as_secs_f64();
    // And indexed for search, as a server that stored them would have done as they came.
    while store.index_new_leads().await? > 0 {}
    eprintln!(
        "seeded {leads} leads in {seeded_s:.1} s, rolled {} half hours in {rolled_s:.1} s",
        rolled.new
    );
    Ok(
        json!({"leads": leads, "days": days, "seed_seconds": (seeded_s * 10.0).round() / 10.0,
        "roll_up_seconds": (rolled_s * 10.0).round() / 10.0, "half_hours_rolled": rolled.new}),
    )
}

/// The run's directory: a temporary one, kept under `keep_in` when given.
pub fn run_dir(keep_in: Option<&Path>) -> anyhow::Result<tempfile::TempDir> {
    Ok(match keep_in {
        Some(path) => {
            std::fs::create_dir_all(path)?;
            tempfile::Builder::new()
                .disable_cleanup(true)
                .tempdir_in(path)?
        }
        None => tempfile::tempdir()?,
    })
}
