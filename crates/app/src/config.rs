//! Configuration from the environment (names as in API.md), validated once at start.
//! Every bad value is reported, each on its own line naming the variable, before exiting.

use ipnet::IpNet;
use leadrouter_store::{DatabaseUrl, DEFAULT_DATABASE_URL};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use leadrouter_core::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionSecret {
    Configured(Secret),
    /// `SESSION_SECRET` unset: a random one for this process (sessions end at restart).
    Ephemeral(Secret),
}

impl SessionSecret {
    /// The key session cookies are signed with: the 64 bytes of SHA-512 over the secret
    /// (at least 32 characters, as `SESSION_SECRET` must be).
    pub fn cookie_key(&self) -> axum_extra::extract::cookie::Key {
        use sha2::Digest;
        let (SessionSecret::Configured(s) | SessionSecret::Ephemeral(s)) = self;
        let material = sha2::Sha512::digest(format!("leadrouter session cookies\0{}", s.expose()));
        axum_extra::extract::cookie::Key::from(&material)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Postmark {
    pub server_token: Secret,
    pub from_email: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub database_url: DatabaseUrl,
    pub port: u16,
    pub bind: IpAddr,
    pub session_secret: SessionSecret,
    pub postmark: Option<Postmark>,
    pub postmark_api_url: String,
    /// `LEADROUTER_ALERT_EMAILS`: operators' addresses for alerts.
    pub alert_emails: Vec<String>,
    /// `LEADROUTER_CURRENCY`: the ISO 4217 code of the money the console shows (prices
    /// per lead, revenue), default `EUR`.
    pub currency: String,
    /// `LEADROUTER_TIMEZONE`: the operator's own timezone, whose days a source's
    /// `daily_cap` counts in (IANA name), default `UTC`.
    pub timezone: String,
    /// `LEADROUTER_METRICS_TOKEN`: what `/metrics` wants as a bearer token.
    pub metrics_token: Option<Secret>,
    /// `LEADROUTER_METRICS_PUBLIC=1`: `/metrics` open to anyone when no token is set
    /// (otherwise it answers 401 without one).
    pub metrics_public: bool,
    /// `LEADROUTER_SECRET_KEY`: seals stored secrets (checked to be 32 bytes of base64).
    pub secret_key: Option<Secret>,
    /// `LEADROUTER_ALLOW_CLEARTEXT_SECRETS=1`: a server on PostgreSQL starts without a
    /// secret key (otherwise it refuses to).
    pub allow_cleartext_secrets: bool,
    /// `LEADROUTER_SETUP_TOKEN`: what the first-run setup wants (unset: one is made at
    /// start and written to the log while no operator exists).
    pub setup_token: Option<Secret>,
    /// `LEADROUTER_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<IpNet>,
    pub public_url: String,
    pub webhook_allow_cidrs: Vec<IpNet>,
    pub extra_root_certs: Option<PathBuf>,
    pub delivery_timeout: Duration,
    pub retry_schedule: Vec<Duration>,
    /// Zero: dedupe off.
    pub dedupe_window: Duration,
    pub hold_max: Duration,
    /// How long after delivery a partner may return a lead.
    pub return_window: Duration,
    /// How long attempts keep their response excerpt and body sent.
    pub attempt_body_retention: Duration,
    /// How long leads keep their personal data (zero: for ever).
    pub retention: Duration,
    pub facebook_graph_url: String,
    pub log_format: LogFormat,
    /// Failed delivery attempts in a row after which a partner is paused.
    pub pause_after_failures: i64,
    /// Whether this instance runs a delivery worker (`LEADROUTER_DELIVERY=off`: ingest and
    /// routing only, e.g. for instances dedicated to taking leads in).
    pub delivery_enabled: bool,
    /// Whether this instance routes leads (`LEADROUTER_ROUTING=off`: it takes leads in and
    /// leaves them to an instance on the same PostgreSQL that routes, woken by its
    /// notification).
    pub routing_enabled: bool,
    /// How many instances share the database (`LEADROUTER_INSTANCES`): each divides the
    /// partner API's per-key limits by it, so that together they allow what one would.
    pub instances: u32,
    /// Limits of the HTTP server (slow and greedy clients).
    pub http: crate::http_server::HttpLimits,
}

/// All the problems found, one per bad variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<String>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("\n"))
    }
}

impl std::error::Error for ConfigErrors {}

impl Config {
    pub fn from_process_env() -> Result<Config, ConfigErrors> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the configuration through `get` (the process environment, or a map in tests).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigErrors> {
        let mut env = Env {
            get: &get,
            errors: Vec::new(),
        };
        let database_url = env.read("DATABASE_URL", DEFAULT_DATABASE_URL, |v| {
            v.parse::<DatabaseUrl>().map_err(|e| e.to_string())
        });
        let port = env.read("PORT", "8080", |v| {
            v.trim()
                .parse::<u16>()
                .map_err(|_| format!("\"{v}\" is not a port number (0-65535)"))
        });
        let bind = env.read("LEADROUTER_BIND", "0.0.0.0", |v| {
            v.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("\"{v}\" is not an IP address"))
        });
        let session_secret = session_secret(&mut env);
        let postmark = postmark(&mut env);
        let postmark_api_url =
            env.read("POSTMARK_API_URL", "https://api.postmarkapp.com", http_url);
        let alert_emails = env.read("LEADROUTER_ALERT_EMAILS", "", email_list);
        let currency = env.read("LEADROUTER_CURRENCY", "EUR", currency_code);
        let timezone = env.read("LEADROUTER_TIMEZONE", "UTC", |v| {
            leadrouter_core::localtime::parse_tz(v.trim())
                .map(|_| v.trim().to_string())
                .ok_or_else(|| format!("\"{v}\" is not a timezone such as Europe/Berlin"))
        });
        let metrics_token = env.var("LEADROUTER_METRICS_TOKEN").map(Secret::new);
        let metrics_public = env.read("LEADROUTER_METRICS_PUBLIC", "0", flag);
        let secret_key = secret_key(&mut env);
        let allow_cleartext_secrets = env.read("LEADROUTER_ALLOW_CLEARTEXT_SECRETS", "0", flag);
        let setup_token = env.optional("LEADROUTER_SETUP_TOKEN", setup_token);
        let trusted_proxies = env.read("LEADROUTER_TRUSTED_PROXIES", "", parse_cidrs);
        let public_url = public_url(&mut env, port);
        let webhook_allow_cidrs = env.read("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "", parse_cidrs);
        let extra_root_certs = env.optional("LEADROUTER_EXTRA_ROOT_CERTS", check_pem_file);
        let delivery_timeout = env.read("LEADROUTER_DELIVERY_TIMEOUT", "30s", positive_duration);
        let retry_schedule = env.read(
            "LEADROUTER_RETRY_SCHEDULE",
            "10s,1m,5m,15m,1h,3h",
            parse_schedule,
        );
        let dedupe_window = env.read("LEADROUTER_DEDUPE_WINDOW", "30d", duration_or_zero);
        let hold_max = env.read("LEADROUTER_HOLD_MAX", "24h", positive_duration);
        let (return_window, attempt_body_retention, retention) = windows(&mut env);
        let facebook_graph_url = env.read(
            "LEADROUTER_FACEBOOK_GRAPH_URL",
            "https://graph.facebook.com/v21.0",
            http_url,
        );
        let pause_after_failures = env.read("LEADROUTER_PAUSE_AFTER_FAILURES", "10", |v| {
            at_least_one(v).map(|n| n as i64)
        });
        let delivery_enabled = env.read("LEADROUTER_DELIVERY", "on", on_off);
        let routing_enabled = env.read("LEADROUTER_ROUTING", "on", on_off);
        let instances = env.read("LEADROUTER_INSTANCES", "1", |v| {
            at_least_one(v).and_then(|n| {
                u32::try_from(n)
                    .ok()
                    .filter(|n| *n <= 1000)
                    .ok_or_else(|| format!("\"{v}\" is more than 1000 instances"))
            })
        });
        let http = http_limits(&mut env);
        let log_format = env.read("LEADROUTER_LOG_FORMAT", "text", log_format);
        let config = (|| {
            Some(Config {
                database_url: database_url?,
                port: port?,
                bind: bind?,
                session_secret: session_secret?,
                postmark: postmark?,
                postmark_api_url: postmark_api_url?,
                alert_emails: alert_emails?,
                currency: currency?,
                timezone: timezone?,
                metrics_token,
                metrics_public: metrics_public?,
                secret_key: secret_key?,
                allow_cleartext_secrets: allow_cleartext_secrets?,
                setup_token: setup_token?,
                trusted_proxies: trusted_proxies?,
                public_url: public_url?,
                webhook_allow_cidrs: webhook_allow_cidrs?,
                extra_root_certs: extra_root_certs?,
                delivery_timeout: delivery_timeout?,
                retry_schedule: retry_schedule?,
                dedupe_window: dedupe_window?,
                hold_max: hold_max?,
                return_window: return_window?,
                attempt_body_retention: attempt_body_retention?,
                retention: retention?,
                facebook_graph_url: facebook_graph_url?,
                log_format: log_format?,
                pause_after_failures: pause_after_failures?,
                delivery_enabled: delivery_enabled?,
                routing_enabled: routing_enabled?,
                instances: instances?,
                http: http?,
            })
        })();
        match config {
            Some(c) if env.errors.is_empty() => Ok(c),
            _ => Err(ConfigErrors(env.errors)),
        }
    }
}

/// Where the server says it is reachable (links in answers and mails); Render's own
/// variable is taken when ours is not set.
fn public_url(env: &mut Env<'_>, port: Option<u16>) -> Option<String> {
    match env
        .var("LEADROUTER_PUBLIC_URL")
        .or_else(|| env.var("RENDER_EXTERNAL_URL"))
    {
        Some(u) => env.check("LEADROUTER_PUBLIC_URL", http_url(&u)),
        None => Some(format!("http://localhost:{}", port.unwrap_or(8080))),
    }
}

fn email_list(v: &str) -> Result<Vec<String>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            if email_address::EmailAddress::is_valid(e) {
                Ok(e.to_lowercase())
            } else {
                Err(format!("\"{e}\" is not an e-mail address"))
            }
        })
        .collect()
}

fn on_off(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" => Ok(true),
        "off" => Ok(false),
        other => Err(format!("\"{other}\" is not one of: on, off")),
    }
}

/// A yes/no variable: `1`, `true`, `on` or `0`, `false`, `off`.
fn flag(v: &str) -> Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "on" | "yes" => Ok(true),
        "0" | "false" | "off" | "no" => Ok(false),
        other => Err(format!("\"{other}\" is not one of: 1, 0")),
    }
}

/// A setup token long enough not to be guessed.
fn setup_token(v: &str) -> Result<Secret, String> {
    if v.trim().chars().count() < 16 {
        return Err("must be at least 16 characters".into());
    }
    Ok(Secret::new(v.trim()))
}

fn log_format(v: &str) -> Result<LogFormat, String> {
    match v.trim() {
        "text" => Ok(LogFormat::Text),
        "json" => Ok(LogFormat::Json),
        other => Err(format!("\"{other}\" is not one of: text, json")),
    }
}

/// The environment, read variable by variable, every problem collected as
/// `NAME: what is wrong`.
struct Env<'g> {
    get: &'g dyn Fn(&str) -> Option<String>,
    errors: Vec<String>,
}

impl Env<'_> {
    /// An empty variable is treated as unset, as shells and dashboards often leave them.
    fn var(&self, k: &str) -> Option<String> {
        (self.get)(k).filter(|v| !v.trim().is_empty())
    }

    fn check<T>(&mut self, name: &str, r: Result<T, String>) -> Option<T> {
        r.map_err(|e| self.errors.push(format!("{name}: {e}"))).ok()
    }

    /// `parse`s the variable, or `default` when it is unset.
    fn read<T>(
        &mut self,
        name: &str,
        default: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let v = self.var(name);
        let r = parse(v.as_deref().unwrap_or(default));
        self.check(name, r)
    }

    /// `parse`s the variable when it is set.
    fn optional<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        let r = self.var(name).map(|v| parse(&v)).transpose();
        self.check(name, r)
    }
}

/// How long a partner may return a lead, and how long attempts keep their bodies.
type Windows = (Option<Duration>, Option<Duration>, Option<Duration>);

fn windows(env: &mut Env<'_>) -> Windows {
    (
        env.read("LEADROUTER_RETURN_WINDOW", "7d", duration_or_zero),
        env.read("LEADROUTER_ATTEMPT_BODY_RETENTION", "30d", duration_or_zero),
        env.read("LEADROUTER_RETENTION", "365d", duration_or_zero),
    )
}

/// `LEADROUTER_SECRET_KEY`, checked to be a key the sealer takes.
fn secret_key(env: &mut Env<'_>) -> Option<Option<Secret>> {
    env.optional("LEADROUTER_SECRET_KEY", |v| {
        leadrouter_core::sealed::Sealer::from_config(v).map(|_| Secret::new(v.trim()))
    })
}

fn session_secret(env: &mut Env<'_>) -> Option<SessionSecret> {
    let r = match env.var("SESSION_SECRET") {
        Some(s) if s.chars().count() < 32 => Err(format!(
            "must be at least 32 characters (it has {})",
            s.chars().count()
        )),
        Some(s) => Ok(SessionSecret::Configured(Secret::new(s))),
        None => Ok(SessionSecret::Ephemeral(Secret::new(random_hex(32)))),
    };
    env.check("SESSION_SECRET", r)
}

fn postmark(env: &mut Env<'_>) -> Option<Option<Postmark>> {
    let r = match (
        env.var("POSTMARK_SERVER_TOKEN"),
        env.var("POSTMARK_FROM_EMAIL"),
    ) {
        (Some(token), Some(from)) if from.contains('@') => Ok(Some(Postmark {
            server_token: Secret::new(token),
            from_email: from.trim().to_string(),
        })),
        (Some(_), Some(from)) => Err(format!("\"{from}\" is not an e-mail address")),
        (Some(_), None) => Err("required when POSTMARK_SERVER_TOKEN is set".into()),
        (None, _) => Ok(None),
    };
    env.check("POSTMARK_FROM_EMAIL", r)
}

fn http_limits(env: &mut Env<'_>) -> Option<crate::http_server::HttpLimits> {
    let header_timeout = env.read("LEADROUTER_HTTP_HEADER_TIMEOUT", "10s", nonzero_duration);
    let body_timeout = env.read("LEADROUTER_HTTP_BODY_TIMEOUT", "30s", nonzero_duration);
    let max_header_bytes = env.read("LEADROUTER_HTTP_MAX_HEADER_BYTES", "16384", at_least_one);
    let max_connections = env.read("LEADROUTER_HTTP_MAX_CONNECTIONS", "1024", at_least_one);
    Some(crate::http_server::HttpLimits {
        header_timeout: header_timeout?,
        body_timeout: body_timeout?,
        max_header_bytes: max_header_bytes?,
        max_connections: max_connections?,
    })
}

mod values;
pub use values::parse_duration;
use values::*;

#[cfg(test)]
mod tests;

/// A currency's ISO 4217 code: three letters (written upper case).
fn currency_code(v: &str) -> Result<String, String> {
    let code = v.trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(code)
    } else {
        Err(format!(
            "\"{v}\" is not a currency code such as EUR, GBP or NOK"
        ))
    }
}
