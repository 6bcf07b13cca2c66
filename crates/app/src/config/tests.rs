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
    assert!(c.routing_enabled && c.delivery_enabled);
    assert_eq!(c.instances, 1);
}

#[test]
fn an_instance_can_leave_routing_to_another_and_share_limits() {
    let c = load(&[
        ("LEADROUTER_ROUTING", "off"),
        ("LEADROUTER_DELIVERY", "off"),
        ("LEADROUTER_INSTANCES", "3"),
    ])
    .unwrap();
    assert!(!c.routing_enabled && !c.delivery_enabled);
    assert_eq!(c.instances, 3);
    let bad = load(&[
        ("LEADROUTER_ROUTING", "maybe"),
        ("LEADROUTER_INSTANCES", "0"),
    ])
    .unwrap_err();
    assert_eq!(bad.0.len(), 2, "{bad:?}");
    assert!(bad.0[0].starts_with("LEADROUTER_ROUTING"), "{bad:?}");
    assert!(bad.0[1].starts_with("LEADROUTER_INSTANCES"), "{bad:?}");
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

#[test]
fn alert_addresses_are_a_comma_list_of_e_mails() {
    let c = load(&[(
        "LEADROUTER_ALERT_EMAILS",
        " Ops@LeadBiz.de, night@leadbiz.de ,",
    )])
    .unwrap();
    assert_eq!(c.alert_emails, ["ops@leadbiz.de", "night@leadbiz.de"]);
    let e = load(&[("LEADROUTER_ALERT_EMAILS", "ops@leadbiz.de, not-an-address")]).unwrap_err();
    assert!(e.to_string().contains("LEADROUTER_ALERT_EMAILS"), "{e}");
    assert!(load(&[]).unwrap().alert_emails.is_empty());
}
