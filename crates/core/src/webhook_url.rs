//! Webhook URL rules: https only, no credentials, and a host that is, or resolves only to,
//! addresses the SSRF guard allows.
//!
//! The host is parsed by the WHATWG URL parser (the `url` crate, which the HTTP client uses
//! too), so every spelling the client would accept for an address (`2130706433`, `0x7f.1`,
//! `0177.0.0.1`, `127.1`, `[::ffff:127.0.0.1]`, percent-encoding) is judged as the address
//! the client would connect to.

use crate::ssrf::{check_ip, AllowList, BlockReason};
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookHost {
    Ip(IpAddr),
    /// A DNS name, lower case, without a trailing dot; must be resolved and each address
    /// checked with [`check_resolved`].
    Name(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl {
    pub url: Url,
    pub host: WebhookHost,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UrlProblem {
    NotAUrl(String),
    NotHttps,
    Credentials,
    NoHost,
    LocalName(String),
    BlockedAddress(IpAddr, BlockReason),
    ResolvesToBlocked {
        name: String,
        ip: IpAddr,
        reason: BlockReason,
    },
    NoAddresses(String),
    /// Not a DNS name: a label over 63 characters, a name over 253, an empty label, or a
    /// character DNS does not carry.
    BadName(String),
}

impl fmt::Display for UrlProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlProblem::NotAUrl(e) => write!(f, "is not a valid URL ({e})"),
            UrlProblem::NotHttps => f.write_str("must use https"),
            UrlProblem::Credentials => f.write_str("must not contain credentials (user:password@)"),
            UrlProblem::NoHost => f.write_str("must name a host"),
            UrlProblem::LocalName(n) => write!(f, "host {n} is a local name, never public"),
            UrlProblem::BlockedAddress(ip, r) => {
                write!(
                    f,
                    "host {ip} is {r}; only public addresses may receive leads"
                )
            }
            UrlProblem::ResolvesToBlocked { name, ip, reason } => write!(
                f,
                "host {name} resolves to {ip}, {reason}; only public addresses may receive leads"
            ),
            UrlProblem::NoAddresses(n) => write!(f, "host {n} does not resolve"),
            UrlProblem::BadName(why) => write!(f, "host is not a valid DNS name: {why}"),
        }
    }
}

/// Checks everything that can be checked without DNS.
pub fn parse_webhook_url(input: &str, allow: &AllowList) -> Result<WebhookUrl, UrlProblem> {
    let url = Url::parse(input.trim()).map_err(|e| UrlProblem::NotAUrl(e.to_string()))?;
    if url.scheme() != "https" {
        return Err(UrlProblem::NotHttps);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(UrlProblem::Credentials);
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let host = match url.host() {
        None => return Err(UrlProblem::NoHost),
        Some(Host::Ipv4(v4)) => WebhookHost::Ip(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => WebhookHost::Ip(IpAddr::V6(v6)),
        Some(Host::Domain(d)) => {
            let name = d.trim_end_matches('.').to_ascii_lowercase();
            if name.is_empty() {
                return Err(UrlProblem::NoHost);
            }
            // RFC 6761: these names are loopback by definition, whatever DNS says.
            if name == "localhost" || name.ends_with(".localhost") {
                return Err(UrlProblem::LocalName(name));
            }
            dns_name(&name).map_err(UrlProblem::BadName)?;
            WebhookHost::Name(name)
        }
    };
    if let WebhookHost::Ip(ip) = host {
        check_ip(ip, allow).map_err(|r| UrlProblem::BlockedAddress(ip, r))?;
    }
    Ok(WebhookUrl { url, host, port })
}

/// DNS's own limits (RFC 1035): labels of 1 to 63 characters, at most 253 in all, letters,
/// digits, hyphens (and underscores, which real names carry), no hyphen at a label's ends.
/// The URL parser has already turned international names into their `xn--` form.
fn dns_name(name: &str) -> Result<(), String> {
    if name.len() > 253 {
        return Err(format!("{} characters, at most 253", name.len()));
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("an empty label (two dots in a row)".into());
        }
        if label.len() > 63 {
            return Err(format!("a label of {} characters, at most 63", label.len()));
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "the label \"{label}\" has characters DNS does not carry"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(format!(
                "the label \"{label}\" starts or ends with a hyphen"
            ));
        }
    }
    Ok(())
}

/// Checks every address a name resolved to; one blocked address refuses the whole name
/// (a DNS answer can be rotated at will, so any of them may be the one used).
pub fn check_resolved(name: &str, addrs: &[IpAddr], allow: &AllowList) -> Result<(), UrlProblem> {
    if addrs.is_empty() {
        return Err(UrlProblem::NoAddresses(name.to_string()));
    }
    for &ip in addrs {
        check_ip(ip, allow).map_err(|reason| UrlProblem::ResolvesToBlocked {
            name: name.to_string(),
            ip,
            reason,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(u: &str) -> Result<WebhookUrl, UrlProblem> {
        parse_webhook_url(u, &AllowList::default())
    }

    #[test]
    fn host_names_must_keep_to_dns_limits() {
        let long_label = format!("https://{}.example.com/", "a".repeat(5000));
        assert!(matches!(check(&long_label), Err(UrlProblem::BadName(_))));
        let label_64 = format!("https://{}.example.com/", "a".repeat(64));
        assert!(matches!(check(&label_64), Err(UrlProblem::BadName(_))));
        let long_name = format!("https://{}example.com/", "abcdefghi.".repeat(25));
        assert!(matches!(check(&long_name), Err(UrlProblem::BadName(_))));
        assert!(matches!(
            check("https://-bad.example.com/"),
            Err(UrlProblem::BadName(_))
        ));
        // At the limits, and real-world spellings, are fine.
        let label_63 = format!("https://{}.example.com/", "a".repeat(63));
        assert!(check(&label_63).is_ok());
        assert!(check("https://_dmarc-ok.fxpartners.com/api").is_ok());
        assert!(check("https://bücher.de/leads").is_ok());
        assert!(check("https://fxpartners.com./api/leads").is_ok());
        assert_eq!(
            check(&long_label).unwrap_err().to_string(),
            "host is not a valid DNS name: 5012 characters, at most 253"
        );
    }

    #[test]
    fn every_spelling_of_loopback_is_seen_as_loopback() {
        for u in [
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://0x7f000001/",
            "https://0177.0.0.1/",
            "https://017700000001/",
            "https://127.1/",
            "https://127.0.1/",
            "https://%31%32%37.0.0.1/",
            "https://[::1]/",
            "https://[0:0:0:0:0:0:0:1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://[64:ff9b::7f00:1]/",
            "https://127.000.000.001/",
        ] {
            match check(u) {
                Err(UrlProblem::BlockedAddress(ip, reason)) => {
                    assert!(
                        reason.to_string().contains("loopback"),
                        "{u} → {ip}: {reason}"
                    )
                }
                other => panic!("{u}: expected loopback, got {other:?}"),
            }
        }
    }

    #[test]
    fn other_blocked_literals_are_refused() {
        for u in [
            "https://0/",
            "https://0.0.0.0/",
            "https://10.0.0.1:8443/x",
            "https://0xa000001/",
            "https://012.0.0.1/",
            "https://169.254.169.254/latest/meta-data",
            "https://[::ffff:a9fe:a9fe]/",
            "https://[fd00::1]/",
            "https://[fe80::1]/",
            "https://192.168.1.1/",
            "https://100.64.0.1/",
            "https://255.255.255.255/",
            "https://[2002:c0a8:101::1]/",
        ] {
            assert!(
                matches!(check(u), Err(UrlProblem::BlockedAddress(..))),
                "{u}: {:?}",
                check(u)
            );
        }
    }

    #[test]
    fn local_names_are_refused_without_asking_dns() {
        for u in [
            "https://localhost/",
            "https://LOCALHOST./x",
            "https://api.localhost/",
        ] {
            assert!(matches!(check(u), Err(UrlProblem::LocalName(_))), "{u}");
        }
    }

    #[test]
    fn scheme_credentials_and_shape_are_checked() {
        assert_eq!(check("http://example.com/leads"), Err(UrlProblem::NotHttps));
        assert_eq!(check("ftp://example.com/"), Err(UrlProblem::NotHttps));
        assert_eq!(
            check("https://user:pw@example.com/"),
            Err(UrlProblem::Credentials)
        );
        assert_eq!(
            check("https://user@example.com/"),
            Err(UrlProblem::Credentials)
        );
        assert!(matches!(
            check("example.com/leads"),
            Err(UrlProblem::NotAUrl(_))
        ));
        assert!(matches!(check("https://"), Err(UrlProblem::NotAUrl(_))));
        assert!(matches!(
            check("https://[fe80::1%25eth0]/"),
            Err(UrlProblem::NotAUrl(_))
        ));
    }

    #[test]
    fn public_names_and_addresses_pass_the_static_check() {
        let ok = check("https://FXPartners.com/api/leads").unwrap();
        assert_eq!(ok.host, WebhookHost::Name("fxpartners.com".into()));
        assert_eq!(ok.port, 443);
        let ok = check("https://8.8.8.8:8443/hook").unwrap();
        assert_eq!(
            (ok.host, ok.port),
            (WebhookHost::Ip("8.8.8.8".parse().unwrap()), 8443)
        );
        assert!(check("https://[2606:4700::6810:85e5]/").is_ok());
    }

    #[test]
    fn allow_list_exempts_a_listed_literal_only() {
        let allow = AllowList::new(vec!["127.0.0.1/32".parse().unwrap()]);
        assert!(parse_webhook_url("https://127.0.0.1:9443/h", &allow).is_ok());
        assert!(parse_webhook_url("https://2130706433/", &allow).is_ok());
        assert!(parse_webhook_url("https://127.0.0.2/", &allow).is_err());
        assert!(
            parse_webhook_url("https://localhost/", &allow).is_err(),
            "names still local"
        );
    }

    #[test]
    fn a_name_is_refused_if_any_address_is_blocked() {
        let allow = AllowList::default();
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let private: IpAddr = "10.0.0.5".parse().unwrap();
        assert_eq!(check_resolved("a.example", &[public], &allow), Ok(()));
        let err = check_resolved("a.example", &[public, private], &allow).unwrap_err();
        assert_eq!(
            err.to_string(),
            "host a.example resolves to 10.0.0.5, a private address; only public addresses may receive leads"
        );
        assert!(matches!(
            check_resolved("a.example", &[], &allow),
            Err(UrlProblem::NoAddresses(_))
        ));
    }
}
