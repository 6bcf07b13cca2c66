//! A partner's settings, and the rules for accepting them from an operator.
//!
//! Input is accepted the way people write it: the guide's form labels as keys (`Daily
//! Limit`, `Webhook URL`) as well as `daily_limit` / `dailyLimit`; `70%` as well as `70`;
//! `name,email,phone` as well as an array; `International (+1234567890)` as a phone format.
//! Every invalid field is reported, each with its own message.

use crate::hours::BusinessHours;
pub use crate::input::snake_case;
use crate::secret::Secret;
use crate::webhook_url::WebhookUrl;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const DEFAULT_DAILY_LIMIT: u32 = 50;
pub const DEFAULT_PREMIUM_RATIO: u8 = 50;
pub const MAX_DAILY_LIMIT: u32 = 1_000_000;

/// How a partner wants phone numbers written (kept with the phone numbers themselves).
pub use crate::phone::PhoneFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentType {
    Json,
    Form,
}

impl ContentType {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentType::Json => "json",
            ContentType::Form => "form",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "json" | "application/json" => Some(ContentType::Json),
            "form" | "application/x-www-form-urlencoded" => Some(ContentType::Form),
            _ => None,
        }
    }
}

/// How we authenticate to the partner's endpoint. Holds secrets: never shown back.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum PartnerAuth {
    Bearer { token: Secret },
    Basic { username: String, password: Secret },
    Header { name: String, value: Secret },
}

impl std::fmt::Debug for PartnerAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PartnerAuth({})", self.redacted())
    }
}

/// Headers a partner's custom auth header may not replace: they carry our own protocol.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-type",
    "content-length",
    "transfer-encoding",
    "connection",
    "user-agent",
    "idempotency-key",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    // Hop-by-hop and proxy headers: they change how the request travels, not what it says.
    "upgrade",
    "te",
    "trailer",
    "expect",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
    "http2-settings",
];

/// A credential as it goes into a header: visible ASCII and spaces only (no CR, LF, NUL or
/// other control characters, which would make every request to the partner fail).
fn header_safe(what: &str, value: &str) -> Result<(), String> {
    if value
        .bytes()
        .all(|b| b == b' ' || b == b'\t' || (0x21..0x7f).contains(&b))
    {
        Ok(())
    } else {
        Err(format!(
            "{what} must be visible ASCII characters (no line breaks or control characters)"
        ))
    }
}

impl PartnerAuth {
    /// What may be shown after creation: the kind, and names that are not secret.
    pub fn redacted(&self) -> Value {
        match self {
            PartnerAuth::Bearer { .. } => json!({"type": "bearer"}),
            PartnerAuth::Basic { username, .. } => json!({"type": "basic", "username": username}),
            PartnerAuth::Header { name, .. } => json!({"type": "header", "name": name}),
        }
    }

    fn parse(v: &Value) -> Result<Option<Self>, String> {
        if v.is_null() {
            return Ok(None);
        }
        let obj = v.as_object().ok_or("must be an object with a \"type\"")?;
        let text = |k: &str| -> Result<String, String> {
            obj.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| format!("\"{k}\" is required"))
        };
        let kind = obj.get("type").and_then(Value::as_str).unwrap_or("");
        let auth = match kind.to_ascii_lowercase().as_str() {
            "none" => return Ok(None),
            "bearer" => {
                let token = text("token")?;
                header_safe("token", &token)?;
                PartnerAuth::Bearer {
                    token: Secret::new(token),
                }
            }
            "basic" => {
                let username = text("username")?;
                let password = text("password")?;
                header_safe("username", &username)?;
                header_safe("password", &password)?;
                if username.contains(':') {
                    return Err("username must not contain \":\"".into());
                }
                PartnerAuth::Basic {
                    username,
                    password: Secret::new(password),
                }
            }
            "header" => {
                let name = text("name")?;
                let valid = name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
                if !valid {
                    return Err(format!("\"{name}\" is not a valid header name"));
                }
                if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
                    return Err(format!("header {name} is set by leadrouter itself"));
                }
                let value = text("value")?;
                header_safe("header value", &value)?;
                PartnerAuth::Header {
                    name,
                    value: Secret::new(value),
                }
            }
            _ => return Err("type must be one of: bearer, basic, header".into()),
        };
        Ok(Some(auth))
    }
}

/// Everything an operator configures for a partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerSpec {
    pub name: String,
    pub email: Option<String>,
    pub country: String,
    pub niche: String,
    pub daily_limit: u32,
    /// Percent of `daily_limit` reserved for premium leads, 0..=100.
    pub premium_ratio: u8,
    pub timezone: String,
    pub business_hours: Option<BusinessHours>,
    pub webhook_url: String,
    pub phone_format: PhoneFormat,
    pub required_fields: Vec<String>,
    pub field_mapping: BTreeMap<String, String>,
    pub default_values: BTreeMap<String, Value>,
    pub content_type: ContentType,
    pub auth: Option<PartnerAuth>,
    /// Takes only leads whose phone number libphonenumber knows as valid.
    pub valid_phone_only: bool,
    /// Wants a summary of yesterday by e-mail at 08:00 its time.
    pub daily_summary: bool,
    /// What it pays per delivered lead, in cents.
    pub price_per_lead_cents: Option<i64>,
    /// Where it is told (a signed `lead.erased` POST) that leads it received were erased.
    pub erasure_webhook_url: Option<String>,
    /// How its answers are read when the verdict is in the body (none: by status code).
    pub response: Option<crate::reply::ResponseRules>,
    /// Conditions every lead offered to it must meet (API.md "Partner rules").
    pub filters: Vec<crate::filters::Filter>,
    /// Its share against the others of its tier (1–1000, default 100).
    pub weight: u32,
    /// Its tier: lower tiers are offered leads first (default 0).
    pub priority: i32,
    /// Deliveries sent to it at once, for a partner that asks for fewer (1–256; none: the
    /// engine's default, [`DEFAULT_CONCURRENCY`]).
    pub max_concurrency: Option<u32>,
    /// Caps beside the daily limit, each in the partner's own clock.
    pub caps: crate::windows::Caps,
    /// Money it may be charged per day and per month (needs `price_per_lead`).
    pub budget: crate::windows::Budget,
}

/// Deliveries sent to one partner at once unless it asks for fewer: generous, so that a
/// market served by one partner takes what the engine can deliver (half the engine's shared
/// slots, so that another partner always has the other half).
pub const DEFAULT_CONCURRENCY: u32 = 256;
/// The most a partner may be sent at once.
pub const MAX_CONCURRENCY: u32 = 256;

impl PartnerSpec {
    /// Deliveries sent to it at once.
    pub fn concurrency(&self) -> u32 {
        self.max_concurrency.unwrap_or(DEFAULT_CONCURRENCY)
    }

    /// Its caps and budgets together.
    pub fn limits(&self) -> crate::windows::Limits {
        crate::windows::Limits {
            caps: self.caps,
            budget: self.budget,
        }
    }
}

/// The outcome of checking operator input.
#[derive(Debug)]
pub struct PartnerValidation {
    pub result: Result<PartnerSpec, BTreeMap<String, String>>,
    /// The webhook URL, when it passed the checks that need no DNS: its host name (if any)
    /// still has to be resolved and checked.
    pub webhook: Option<WebhookUrl>,
    /// Non-fatal findings, e.g. a default that was applied.
    pub warnings: Vec<String>,
}

/// `Daily Limit`, `dailyLimit`, `daily-limit` → `daily_limit`; plus the guide's synonyms.
pub fn normalize_key(key: &str) -> String {
    let out = snake_case(key);
    match out.as_str() {
        "partner_name" | "company_name" | "company" => "name".into(),
        "contact_email" | "e_mail" => "email".into(),
        "webhook" | "webhook_u_r_l" | "url" => "webhook_url".into(),
        "premium" | "premium_percentage" | "premium_ratio_percent" => "premium_ratio".into(),
        "limit" | "daily_cap" | "cap" => "daily_limit".into(),
        "time_zone" | "tz" => "timezone".into(),
        _ => out,
    }
}

/// The fields every payload may carry before the partner's own additions.
pub const STANDARD_FIELDS: &[&str] = &[
    "lead_id",
    "name",
    "email",
    "phone",
    "country",
    "niche",
    "lead_type",
    "source",
    "timestamp",
];

mod parse;
mod validate;
pub use validate::validate_partner;

#[cfg(test)]
mod tests;
