//! Consent evidence sent with a lead: the text the person agreed to, when, from which
//! address and browser, on which page. Sent as a `consent` object or as flat fields
//! (`consent_text`, `consent_at`, `ip_address`, `user_agent`, `page_url`).

use crate::clock::EpochMillis;
use crate::text::control_problem;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// The longest consent text kept (a privacy notice can be long; it is stored once).
pub const MAX_CONSENT_TEXT_CHARS: usize = 20_000;
const MAX_OTHER_CHARS: usize = 2_000;

/// Consent evidence as kept with a lead. The text itself is stored once per distinct
/// text, under `text_sha256`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub text: String,
    pub text_sha256: String,
    pub version: Option<String>,
    /// When the person gave it, if the source says.
    pub given_at: Option<EpochMillis>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub page_url: Option<String>,
}

/// The hex SHA-256 of a consent text.
pub fn text_sha256(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Flat fields and the `consent` object's member each stands for.
const FLAT: &[(&str, &str)] = &[
    ("consent_text", "text"),
    ("consent_version", "version"),
    ("consent_at", "given_at"),
    ("consent_given_at", "given_at"),
    ("ip_address", "ip"),
    ("ip", "ip"),
    ("user_agent", "user_agent"),
    ("page_url", "page_url"),
];

/// Whether a submitted field carries consent evidence (and so is not a custom field).
pub fn is_consent_field(key: &str) -> bool {
    let k = key.trim().to_ascii_lowercase();
    k == "consent" || FLAT.iter().any(|(flat, _)| *flat == k)
}

/// Reads the consent evidence of a submission: `Ok(None)` when it carries none. Errors
/// are keyed by the field as sent (`consent.ip`, `consent_at`).
pub fn read_consent(
    fields: &Map<String, Value>,
) -> Result<Option<Consent>, BTreeMap<String, String>> {
    let mut members: BTreeMap<&str, (String, Value)> = BTreeMap::new();
    let mut errors = BTreeMap::new();
    for (key, value) in fields {
        let k = key.trim().to_ascii_lowercase();
        if k == "consent" {
            match value {
                Value::Null => {}
                Value::Object(o) => {
                    for (m, v) in o {
                        let name = m.trim().to_ascii_lowercase();
                        let member = match name.as_str() {
                            "text" | "version" | "given_at" | "ip" | "user_agent" | "page_url" => {
                                name
                            }
                            "at" | "consent_at" | "timestamp" => "given_at".into(),
                            "ip_address" => "ip".into(),
                            _ => {
                                errors.insert(
                                    format!("{key}.{m}"),
                                    "is not a consent field (text, version, given_at, ip, \
                                     user_agent, page_url)"
                                        .into(),
                                );
                                continue;
                            }
                        };
                        let slot = slot_name(&member);
                        members.insert(slot, (format!("{key}.{m}"), v.clone()));
                    }
                }
                _ => {
                    errors.insert(
                        key.clone(),
                        "must be an object with the consent's text".into(),
                    );
                }
            }
        } else if let Some((_, member)) = FLAT.iter().find(|(flat, _)| *flat == k) {
            members
                .entry(member)
                .or_insert_with(|| (key.clone(), value.clone()));
        }
    }
    let consent = build(&members, &mut errors);
    if errors.is_empty() {
        Ok(consent)
    } else {
        Err(errors)
    }
}

fn slot_name(member: &str) -> &'static str {
    match member {
        "text" => "text",
        "version" => "version",
        "given_at" => "given_at",
        "ip" => "ip",
        "user_agent" => "user_agent",
        _ => "page_url",
    }
}

fn build(
    members: &BTreeMap<&str, (String, Value)>,
    errors: &mut BTreeMap<String, String>,
) -> Option<Consent> {
    let mut text_of = |slot: &str, max: usize| -> Option<String> {
        let (key, value) = members.get(slot)?;
        let t = match value {
            Value::Null => return None,
            Value::String(s) => s.trim().to_string(),
            Value::Number(n) => n.to_string(),
            _ => {
                errors.insert(key.clone(), "must be text".into());
                return None;
            }
        };
        if t.is_empty() {
            return None;
        }
        if t.chars().count() > max {
            errors.insert(key.clone(), format!("is longer than {max} characters"));
            return None;
        }
        if let Some(problem) = control_problem(&t, slot == "text") {
            errors.insert(key.clone(), problem);
            return None;
        }
        Some(t)
    };
    let text = text_of("text", MAX_CONSENT_TEXT_CHARS);
    let version = text_of("version", MAX_OTHER_CHARS);
    let given_at = text_of("given_at", MAX_OTHER_CHARS);
    let ip = text_of("ip", MAX_OTHER_CHARS);
    let user_agent = text_of("user_agent", MAX_OTHER_CHARS);
    let page_url = text_of("page_url", MAX_OTHER_CHARS);
    let (given_at, ip) = checked(members, errors, given_at, ip, page_url.as_deref());
    let any_other = version.is_some()
        || given_at.is_some()
        || ip.is_some()
        || user_agent.is_some()
        || page_url.is_some();
    let Some(text) = text else {
        if any_other {
            let key = members
                .get("text")
                .map_or("consent_text".to_string(), |(k, _)| k.clone());
            errors.insert(
                key,
                "is required with consent evidence: the text agreed to".into(),
            );
        }
        return None;
    };
    Some(Consent {
        text_sha256: text_sha256(&text),
        text,
        version,
        given_at,
        ip,
        user_agent,
        page_url,
    })
}

/// The time, the address and the page checked: (given_at, ip), errors under their keys.
fn checked(
    members: &BTreeMap<&str, (String, Value)>,
    errors: &mut BTreeMap<String, String>,
    given_at: Option<String>,
    ip: Option<String>,
    page_url: Option<&str>,
) -> (Option<EpochMillis>, Option<String>) {
    let given_at = given_at.and_then(|t| match parse_instant(&t) {
        Some(ms) => Some(ms),
        None => {
            errors.insert(
                members["given_at"].0.clone(),
                "must be a time such as 2025-09-23T22:55:13Z".into(),
            );
            None
        }
    });
    let ip = ip.and_then(|t| match t.parse::<IpAddr>() {
        Ok(a) => Some(a.to_string()),
        Err(_) => {
            errors.insert(
                members["ip"].0.clone(),
                "must be an IPv4 or IPv6 address".into(),
            );
            None
        }
    });
    if let Some(u) = page_url {
        let ok = url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            errors.insert(
                members["page_url"].0.clone(),
                "must be an http or https URL".into(),
            );
        }
    }
    (given_at, ip)
}

/// RFC 3339, with or without the colon in the offset (`+0000`, as Facebook writes it).
pub fn parse_instant(t: &str) -> Option<EpochMillis> {
    chrono::DateTime::parse_from_rfc3339(t)
        .or_else(|_| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z"))
        .or_else(|_| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|d| d.timestamp_millis())
}

impl Consent {
    /// What a lead row keeps (the text is kept apart, by its hash).
    pub fn stored_json(&self) -> Value {
        json!({
            "text_sha256": self.text_sha256,
            "version": self.version,
            "given_at": self.given_at,
            "ip": self.ip,
            "user_agent": self.user_agent,
            "page_url": self.page_url,
        })
    }

    /// A stored row back (`stored` from [`Consent::stored_json`], the text from its table).
    pub fn from_stored(stored: &Value, text: String) -> Consent {
        let s = |k: &str| stored.get(k).and_then(Value::as_str).map(str::to_string);
        Consent {
            text,
            text_sha256: s("text_sha256").unwrap_or_default(),
            version: s("version"),
            given_at: stored.get("given_at").and_then(Value::as_i64),
            ip: s("ip"),
            user_agent: s("user_agent"),
            page_url: s("page_url"),
        }
    }
}

/// Facebook's answers to a lead form's custom disclaimer (`custom_disclaimer_responses`:
/// `[{"checkbox_key", "is_checked"}]`) as a `consent` object for the lead's fields.
pub fn facebook_consent(lead: &Value) -> Option<Value> {
    let responses = lead.get("custom_disclaimer_responses")?.as_array()?;
    if responses.is_empty() {
        return None;
    }
    let lines: Vec<String> = responses
        .iter()
        .map(|r| {
            let key = r
                .get("checkbox_key")
                .and_then(Value::as_str)
                .unwrap_or("disclaimer");
            let checked = match r.get("is_checked") {
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) => s == "1" || s.eq_ignore_ascii_case("true"),
                Some(Value::Number(n)) => n.as_i64() == Some(1),
                _ => false,
            };
            format!("{key}: {}", if checked { "checked" } else { "not checked" })
        })
        .collect();
    let form = lead.get("form_id").and_then(|v| match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    let mut consent = Map::new();
    consent.insert(
        "text".into(),
        Value::String(format!(
            "Facebook lead form disclaimer responses\n{}",
            lines.join("\n")
        )),
    );
    if let Some(f) = form {
        consent.insert(
            "version".into(),
            Value::String(format!("facebook form {f}")),
        );
    }
    if let Some(t) = lead.get("created_time").and_then(Value::as_str) {
        consent.insert("given_at".into(), Value::String(t.to_string()));
    }
    Some(Value::Object(consent))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn an_object_and_flat_fields_read_the_same() {
        let text = "I agree to be called about investment offers.";
        let a = read_consent(&fields(json!({"consent": {"text": text, "version": "v3",
            "given_at": "2026-11-30T10:00:00+01:00", "ip": "203.0.113.9",
            "user_agent": "Mozilla/5.0", "page_url": "https://example.com/form"}})))
        .unwrap()
        .unwrap();
        let b = read_consent(&fields(
            json!({"consent_text": text, "consent_version": "v3",
            "consent_at": "2026-11-30T09:00:00Z", "ip_address": "203.0.113.9",
            "user_agent": "Mozilla/5.0", "page_url": "https://example.com/form"}),
        ))
        .unwrap()
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.text_sha256, text_sha256(text));
        assert_eq!(a.given_at, Some(1_796_029_200_000));
    }

    #[test]
    fn each_bad_member_is_named() {
        let errors = read_consent(&fields(json!({"consent": {"text": "ok", "ip": "nope",
            "given_at": "yesterday", "page_url": "ftp://x", "colour": "red"}})))
        .unwrap_err();
        assert_eq!(errors["consent.ip"], "must be an IPv4 or IPv6 address");
        assert!(errors["consent.given_at"].starts_with("must be a time"));
        assert_eq!(errors["consent.page_url"], "must be an http or https URL");
        assert!(errors.contains_key("consent.colour"));
        let errors = read_consent(&fields(json!({"ip_address": "203.0.113.9"}))).unwrap_err();
        assert!(errors["consent_text"].starts_with("is required"));
        let errors = read_consent(&fields(json!({"consent": "yes"}))).unwrap_err();
        assert!(errors.contains_key("consent"));
    }

    #[test]
    fn no_evidence_is_none() {
        assert_eq!(
            read_consent(&fields(json!({"email": "a@b.de"}))).unwrap(),
            None
        );
        assert_eq!(
            read_consent(&fields(json!({"consent": null}))).unwrap(),
            None
        );
    }

    #[test]
    fn facebook_disclaimer_responses_become_consent() {
        let lead = json!({"id": "1", "form_id": "77", "created_time": "2025-09-23T22:55:13+0000",
            "custom_disclaimer_responses": [{"checkbox_key": "marketing", "is_checked": "1"},
                                            {"checkbox_key": "partners", "is_checked": ""}]});
        let c = facebook_consent(&lead).unwrap();
        let read = read_consent(&fields(json!({ "consent": c })))
            .unwrap()
            .unwrap();
        assert!(read.text.contains("marketing: checked"));
        assert!(read.text.contains("partners: not checked"));
        assert_eq!(read.version.as_deref(), Some("facebook form 77"));
        assert_eq!(read.given_at, parse_instant("2025-09-23T22:55:13Z"));
    }
}
