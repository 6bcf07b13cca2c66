//! The values configuration variables take: numbers, durations, URLs, CIDR lists, files.

use ipnet::IpNet;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

pub(super) fn at_least_one(v: &str) -> Result<usize, String> {
    v.trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("\"{v}\" is not a whole number of at least 1"))
}

pub(super) fn nonzero_duration(v: &str) -> Result<Duration, String> {
    parse_duration(v).and_then(|d| {
        if d.is_zero() {
            Err("must be longer than 0".into())
        } else {
            Ok(d)
        }
    })
}

pub(super) fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// An absolute http(s) URL, returned without a trailing slash.
pub(super) fn http_url(v: &str) -> Result<String, String> {
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

pub(super) fn positive_duration(v: &str) -> Result<Duration, String> {
    let d = parse_duration(v)?;
    if d.is_zero() {
        return Err("must be greater than zero".into());
    }
    Ok(d)
}

pub(super) fn duration_or_zero(v: &str) -> Result<Duration, String> {
    if v.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    parse_duration(v)
}

pub(super) fn parse_schedule(v: &str) -> Result<Vec<Duration>, String> {
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
pub(super) fn parse_cidrs(v: &str) -> Result<Vec<IpNet>, String> {
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

pub(super) fn check_pem_file(path: &str) -> Result<PathBuf, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read \"{path}\": {e}"))?;
    if !text.contains("-----BEGIN CERTIFICATE-----") {
        return Err(format!("\"{path}\" holds no PEM certificate"));
    }
    Ok(PathBuf::from(path))
}
