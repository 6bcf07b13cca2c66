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
    pub public_url: String,
    pub webhook_allow_cidrs: Vec<IpNet>,
    pub extra_root_certs: Option<PathBuf>,
    pub delivery_timeout: Duration,
    pub retry_schedule: Vec<Duration>,
    /// Zero: dedupe off.
    pub dedupe_window: Duration,
    pub hold_max: Duration,
    pub facebook_graph_url: String,
    pub log_format: LogFormat,
    /// Failed delivery attempts in a row after which a partner is paused.
    pub pause_after_failures: i64,
    /// Whether this instance runs a delivery worker (`LEADROUTER_DELIVERY=off`: ingest and
    /// routing only, e.g. for instances dedicated to taking leads in).
    pub delivery_enabled: bool,
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
        let mut errors = Vec::new();
        // An empty variable is treated as unset, as shells and dashboards often leave them.
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());

        let database_url = check(
            &mut errors,
            "DATABASE_URL",
            var("DATABASE_URL")
                .as_deref()
                .unwrap_or(DEFAULT_DATABASE_URL)
                .parse::<DatabaseUrl>()
                .map_err(|e| e.to_string()),
        );
        let port = check(
            &mut errors,
            "PORT",
            var("PORT").map_or(Ok(8080), |v| {
                v.trim()
                    .parse::<u16>()
                    .map_err(|_| format!("\"{v}\" is not a port number (0-65535)"))
            }),
        );
        let bind = check(
            &mut errors,
            "LEADROUTER_BIND",
            var("LEADROUTER_BIND").map_or(Ok(IpAddr::from([0, 0, 0, 0])), |v| {
                v.trim()
                    .parse::<IpAddr>()
                    .map_err(|_| format!("\"{v}\" is not an IP address"))
            }),
        );
        let session_secret = check(
            &mut errors,
            "SESSION_SECRET",
            match var("SESSION_SECRET") {
                Some(s) if s.chars().count() < 32 => Err(format!(
                    "must be at least 32 characters (it has {})",
                    s.chars().count()
                )),
                Some(s) => Ok(SessionSecret::Configured(Secret::new(s))),
                None => Ok(SessionSecret::Ephemeral(Secret::new(random_hex(32)))),
            },
        );
        let postmark = match (var("POSTMARK_SERVER_TOKEN"), var("POSTMARK_FROM_EMAIL")) {
            (Some(token), Some(from)) => check(
                &mut errors,
                "POSTMARK_FROM_EMAIL",
                if from.contains('@') {
                    Ok(Some(Postmark {
                        server_token: Secret::new(token),
                        from_email: from.trim().to_string(),
                    }))
                } else {
                    Err(format!("\"{from}\" is not an e-mail address"))
                },
            ),
            (Some(_), None) => check(
                &mut errors,
                "POSTMARK_FROM_EMAIL",
                Err("required when POSTMARK_SERVER_TOKEN is set".into()),
            ),
            (None, _) => Some(None),
        };
        let postmark_api_url = check(
            &mut errors,
            "POSTMARK_API_URL",
            http_url(
                var("POSTMARK_API_URL")
                    .as_deref()
                    .unwrap_or("https://api.postmarkapp.com"),
            ),
        );
        let public_url = check(
            &mut errors,
            "LEADROUTER_PUBLIC_URL",
            match var("LEADROUTER_PUBLIC_URL").or_else(|| var("RENDER_EXTERNAL_URL")) {
                Some(u) => http_url(&u),
                None => Ok(format!("http://localhost:{}", port.unwrap_or(8080))),
            },
        );
        let webhook_allow_cidrs = check(
            &mut errors,
            "LEADROUTER_WEBHOOK_ALLOW_CIDRS",
            parse_cidrs(
                var("LEADROUTER_WEBHOOK_ALLOW_CIDRS")
                    .as_deref()
                    .unwrap_or(""),
            ),
        );
        let extra_root_certs = check(
            &mut errors,
            "LEADROUTER_EXTRA_ROOT_CERTS",
            var("LEADROUTER_EXTRA_ROOT_CERTS")
                .map(|p| check_pem_file(&p))
                .transpose(),
        );
        let delivery_timeout = check(
            &mut errors,
            "LEADROUTER_DELIVERY_TIMEOUT",
            positive_duration(
                var("LEADROUTER_DELIVERY_TIMEOUT")
                    .as_deref()
                    .unwrap_or("30s"),
            ),
        );
        let retry_schedule = check(
            &mut errors,
            "LEADROUTER_RETRY_SCHEDULE",
            parse_schedule(
                var("LEADROUTER_RETRY_SCHEDULE")
                    .as_deref()
                    .unwrap_or("10s,1m,5m,15m,1h,3h"),
            ),
        );
        let dedupe_window = check(
            &mut errors,
            "LEADROUTER_DEDUPE_WINDOW",
            duration_or_zero(var("LEADROUTER_DEDUPE_WINDOW").as_deref().unwrap_or("30d")),
        );
        let hold_max = check(
            &mut errors,
            "LEADROUTER_HOLD_MAX",
            positive_duration(var("LEADROUTER_HOLD_MAX").as_deref().unwrap_or("24h")),
        );
        let facebook_graph_url = check(
            &mut errors,
            "LEADROUTER_FACEBOOK_GRAPH_URL",
            http_url(
                var("LEADROUTER_FACEBOOK_GRAPH_URL")
                    .as_deref()
                    .unwrap_or("https://graph.facebook.com/v21.0"),
            ),
        );
        let pause_after_failures = check(
            &mut errors,
            "LEADROUTER_PAUSE_AFTER_FAILURES",
            var("LEADROUTER_PAUSE_AFTER_FAILURES").map_or(Ok(10), |v| {
                v.trim()
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or_else(|| format!("\"{v}\" is not a whole number of at least 1"))
            }),
        );
        let delivery_enabled = check(
            &mut errors,
            "LEADROUTER_DELIVERY",
            match var("LEADROUTER_DELIVERY")
                .map(|v| v.trim().to_ascii_lowercase())
                .as_deref()
            {
                None | Some("on") => Ok(true),
                Some("off") => Ok(false),
                Some(other) => Err(format!("\"{other}\" is not one of: on, off")),
            },
        );
        let positive = |name: &str, default: usize, errors: &mut Vec<String>| {
            check(
                errors,
                name,
                var(name).map_or(Ok(default), |v| {
                    v.trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| format!("\"{v}\" is not a whole number of at least 1"))
                }),
            )
            .unwrap_or(default)
        };
        let timeout = |name: &str, default: Duration, errors: &mut Vec<String>| {
            check(
                errors,
                name,
                var(name).map_or(Ok(default), |v| {
                    parse_duration(&v).and_then(|d| {
                        if d.is_zero() {
                            Err("must be longer than 0".into())
                        } else {
                            Ok(d)
                        }
                    })
                }),
            )
            .unwrap_or(default)
        };
        let http = crate::http_server::HttpLimits {
            header_timeout: timeout(
                "LEADROUTER_HTTP_HEADER_TIMEOUT",
                Duration::from_secs(10),
                &mut errors,
            ),
            body_timeout: timeout(
                "LEADROUTER_HTTP_BODY_TIMEOUT",
                Duration::from_secs(30),
                &mut errors,
            ),
            max_header_bytes: positive("LEADROUTER_HTTP_MAX_HEADER_BYTES", 16 * 1024, &mut errors),
            max_connections: positive("LEADROUTER_HTTP_MAX_CONNECTIONS", 1024, &mut errors),
        };
        let log_format = check(
            &mut errors,
            "LEADROUTER_LOG_FORMAT",
            match var("LEADROUTER_LOG_FORMAT").as_deref().map(str::trim) {
                None | Some("text") => Ok(LogFormat::Text),
                Some("json") => Ok(LogFormat::Json),
                Some(other) => Err(format!("\"{other}\" is not one of: text, json")),
            },
        );

        match (
            database_url,
            port,
            bind,
            session_secret,
            postmark,
            postmark_api_url,
            public_url,
            webhook_allow_cidrs,
            extra_root_certs,
            delivery_timeout,
            retry_schedule,
            dedupe_window,
            hold_max,
            facebook_graph_url,
            log_format,
            pause_after_failures,
            delivery_enabled,
        ) {
            (
                Some(database_url),
                Some(port),
                Some(bind),
                Some(session_secret),
                Some(postmark),
                Some(postmark_api_url),
                Some(public_url),
                Some(webhook_allow_cidrs),
                Some(extra_root_certs),
                Some(delivery_timeout),
                Some(retry_schedule),
                Some(dedupe_window),
                Some(hold_max),
                Some(facebook_graph_url),
                Some(log_format),
                Some(pause_after_failures),
                Some(delivery_enabled),
            ) if errors.is_empty() => Ok(Config {
                database_url,
                port,
                bind,
                session_secret,
                postmark,
                postmark_api_url,
                public_url,
                webhook_allow_cidrs,
                extra_root_certs,
                delivery_timeout,
                retry_schedule,
                dedupe_window,
                hold_max,
                facebook_graph_url,
                log_format,
                pause_after_failures,
                delivery_enabled,
                http,
            }),
            _ => Err(ConfigErrors(errors)),
        }
    }
}

fn check<T>(errors: &mut Vec<String>, name: &str, r: Result<T, String>) -> Option<T> {
    r.map_err(|e| errors.push(format!("{name}: {e}"))).ok()
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// An absolute http(s) URL, returned without a trailing slash.
fn http_url(v: &str) -> Result<String, String> {
    let v = v.trim();
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"))
        .ok_or_else(|| format!("\"{v}\" is not an http:// or https:// URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("\"{v}\" names no host"));
    }
    Ok(v.trim_end_matches('/').to_string())
}

/// `250ms`, `10s`, `5m`, `1h`, `30d` (and combinations such as `1h30m`).
pub fn parse_duration(v: &str) -> Result<Duration, String> {
    humantime::parse_duration(v.trim()).map_err(|_| {
        format!(
            "\"{}\" is not a duration (e.g. 250ms, 10s, 5m, 1h, 30d)",
            v.trim()
        )
    })
}

fn positive_duration(v: &str) -> Result<Duration, String> {
    let d = parse_duration(v)?;
    if d.is_zero() {
        return Err("must be greater than zero".into());
    }
    Ok(d)
}

fn duration_or_zero(v: &str) -> Result<Duration, String> {
    if v.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(v)
}

fn parse_schedule(v: &str) -> Result<Vec<Duration>, String> {
    let steps: Vec<&str> = v.split(',').map(str::trim).collect();
    if steps.iter().all(|s| s.is_empty()) {
        return Err("needs at least one delay, e.g. 10s,1m,5m".into());
    }
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| positive_duration(s).map_err(|e| format!("step {}: {e}", i + 1)))
        .collect()
}

/// A comma list of networks; a bare address means exactly that address.
fn parse_cidrs(v: &str) -> Result<Vec<IpNet>, String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .map(|n| n.trunc())
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("\"{s}\" is not a CIDR (e.g. 10.1.2.0/24) or IP address"))
        })
        .collect()
}

fn check_pem_file(path: &str) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read \"{path}\": {e}"))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!("\"{path}\" holds no PEM certificate"));
    }
    Ok(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(vars: &[(&str, &str)]) -> Result<Config, ConfigErrors> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn no_environment_gives_the_documented_defaults() {
        let c = load(&[]).unwrap();
        assert_eq!(c.database_url.expose(), "sqlite://leadrouter.db");
        assert_eq!(c.port, 8080);
        assert_eq!(c.bind.to_string(), "0.0.0.0");
        assert!(matches!(c.session_secret, SessionSecret::Ephemeral(_)));
        assert_eq!(c.postmark, None);
        assert_eq!(c.postmark_api_url, "https://api.postmarkapp.com");
        assert_eq!(c.public_url, "http://localhost:8080");
        assert!(c.webhook_allow_cidrs.is_empty());
        assert_eq!(c.extra_root_certs, None);
        assert_eq!(c.delivery_timeout, Duration::from_secs(30));
        let secs: Vec<u64> = c.retry_schedule.iter().map(Duration::as_secs).collect();
        assert_eq!(secs, [10, 60, 300, 900, 3600, 10800]);
        assert_eq!(c.dedupe_window, Duration::from_secs(30 * 86400));
        assert_eq!(c.hold_max, Duration::from_secs(86400));
        assert_eq!(c.facebook_graph_url, "https://graph.facebook.com/v21.0");
    }

    #[test]
    fn unsupported_database_scheme_is_named() {
        let e = load(&[("DATABASE_URL", "mysql://u@h/db")]).unwrap_err();
        assert_eq!(
            e.0,
            ["DATABASE_URL: unsupported scheme \"mysql\" (use sqlite://PATH or postgres://...)"]
        );
    }

    #[test]
    fn every_bad_value_is_reported_at_once() {
        let e = load(&[
            ("PORT", "eighty"),
            ("LEADROUTER_BIND", "localhost:1"),
            ("SESSION_SECRET", "short"),
            ("LEADROUTER_RETRY_SCHEDULE", "10s,soon"),
            ("LEADROUTER_WEBHOOK_ALLOW_CIDRS", "10.0.0.0/8, not-a-net"),
            ("LEADROUTER_DELIVERY_TIMEOUT", "0s"),
            ("LEADROUTER_DEDUPE_WINDOW", "a month"),
            ("LEADROUTER_HOLD_MAX", "24"),
            ("LEADROUTER_PUBLIC_URL", "leads.example.com"),
            ("LEADROUTER_FACEBOOK_GRAPH_URL", "ftp://graph"),
            ("POSTMARK_SERVER_TOKEN", "pm-token"),
            ("LEADROUTER_EXTRA_ROOT_CERTS", "/nonexistent/ca.pem"),
            ("LEADROUTER_LOG_FORMAT", "xml"),
        ])
        .unwrap_err();
        let names: Vec<&str> = e.0.iter().map(|l| l.split(':').next().unwrap()).collect();
        assert_eq!(
            names,
            [
                "PORT",
                "LEADROUTER_BIND",
                "SESSION_SECRET",
                "POSTMARK_FROM_EMAIL",
                "LEADROUTER_PUBLIC_URL",
                "LEADROUTER_WEBHOOK_ALLOW_CIDRS",
                "LEADROUTER_EXTRA_ROOT_CERTS",
                "LEADROUTER_DELIVERY_TIMEOUT",
                "LEADROUTER_RETRY_SCHEDULE",
                "LEADROUTER_DEDUPE_WINDOW",
                "LEADROUTER_HOLD_MAX",
                "LEADROUTER_FACEBOOK_GRAPH_URL",
                "LEADROUTER_LOG_FORMAT",
            ]
        );
        assert!(e.0.iter().all(|l| !l.contains('\n')));
        assert!(e.0[2].contains("at least 32 characters"), "{}", e.0[2]);
        assert!(
            e.0[8].contains("step 2") && e.0[8].contains("\"soon\""),
            "{}",
            e.0[8]
        );
        assert!(e.0[5].contains("\"not-a-net\""), "{}", e.0[5]);
        assert!(
            !e.to_string().contains("pm-token"),
            "secrets are never echoed"
        );
    }

    #[test]
    fn durations_take_the_documented_units() {
        for (text, ms) in [
            ("250ms", 250),
            ("10s", 10_000),
            ("5m", 300_000),
            ("1h", 3_600_000),
        ] {
            assert_eq!(parse_duration(text).unwrap().as_millis(), ms, "{text}");
        }
        assert_eq!(parse_duration("30d").unwrap().as_secs(), 30 * 86_400);
        let c = load(&[("LEADROUTER_DEDUPE_WINDOW", "0")]).unwrap();
        assert!(c.dedupe_window.is_zero(), "0 disables dedupe");
        let c = load(&[("LEADROUTER_RETRY_SCHEDULE", "250ms, 1s")]).unwrap();
        assert_eq!(
            c.retry_schedule,
            [Duration::from_millis(250), Duration::from_secs(1)]
        );
    }

    #[test]
    fn allow_list_keeps_exactly_the_named_networks() {
        let c = load(&[(
            "LEADROUTER_WEBHOOK_ALLOW_CIDRS",
            "127.0.0.1, 10.1.2.3/24,::1",
        )])
        .unwrap();
        let nets: Vec<String> = c
            .webhook_allow_cidrs
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(nets, ["127.0.0.1/32", "10.1.2.0/24", "::1/128"]);
    }

    #[test]
    fn public_url_follows_port_or_render_and_drops_trailing_slash() {
        assert_eq!(
            load(&[("PORT", "9000")]).unwrap().public_url,
            "http://localhost:9000"
        );
        let c = load(&[("RENDER_EXTERNAL_URL", "https://leadrouter.onrender.com/")]).unwrap();
        assert_eq!(c.public_url, "https://leadrouter.onrender.com");
        let c = load(&[
            ("RENDER_EXTERNAL_URL", "https://x.onrender.com"),
            ("LEADROUTER_PUBLIC_URL", "https://leads.example.com"),
        ])
        .unwrap();
        assert_eq!(c.public_url, "https://leads.example.com");
    }

    #[test]
    fn postmark_needs_both_token_and_sender() {
        let c = load(&[
            ("POSTMARK_SERVER_TOKEN", "pm-token"),
            ("POSTMARK_FROM_EMAIL", "noreply@example.com"),
        ])
        .unwrap();
        let pm = c.postmark.unwrap();
        assert_eq!(pm.from_email, "noreply@example.com");
        assert!(!format!("{pm:?}").contains("pm-token"));
    }

    #[test]
    fn long_session_secret_is_used_as_given() {
        let secret = "x".repeat(32);
        let c = load(&[("SESSION_SECRET", &secret)]).unwrap();
        assert_eq!(
            c.session_secret,
            SessionSecret::Configured(Secret::new(secret))
        );
    }
}
