//! A partner's settings, and the rules for accepting them from an operator.
//!
//! Input is accepted the way people write it: the guide's form labels as keys (`Daily
//! Limit`, `Webhook URL`) as well as `daily_limit` / `dailyLimit`; `70%` as well as `70`;
//! `name,email,phone` as well as an array; `International (+1234567890)` as a phone format.
//! Every invalid field is reported, each with its own message.

use crate::catalog::Catalog;
use crate::hours::BusinessHours;
use crate::secret::Secret;
use crate::ssrf::AllowList;
use crate::webhook_url::{parse_webhook_url, WebhookUrl};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub const DEFAULT_DAILY_LIMIT: u32 = 50;
pub const DEFAULT_PREMIUM_RATIO: u8 = 50;
pub const MAX_DAILY_LIMIT: u32 = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhoneFormat {
    International,
    National,
    Local,
}

impl PhoneFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneFormat::International => "international",
            PhoneFormat::National => "national",
            PhoneFormat::Local => "local",
        }
    }

    /// `international`, `National`, or the guide's labels (`International (+1234567890)`).
    pub fn parse(s: &str) -> Option<Self> {
        let word: String = s
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect::<String>()
            .to_ascii_lowercase();
        match word.as_str() {
            "international" | "e164" => Some(PhoneFormat::International),
            "national" => Some(PhoneFormat::National),
            "local" => Some(PhoneFormat::Local),
            _ => None,
        }
    }
}

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

/// Fields that appear in our own responses: accepted in input (so a fetched partner can be
/// sent back) and ignored.
const READ_ONLY: &[&str] = &[
    "id",
    "status",
    "paused_reason",
    "created_at",
    "updated_at",
    "today",
    "quotas",
    "api_key",
    "api_key_prefix",
    "signing_secret",
    "warnings",
    "success",
];

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

/// `Daily Limit`, `dailyLimit`, `daily-limit` → `daily_limit`.
pub fn snake_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    let mut prev_lower = false;
    for c in key.trim().chars() {
        if c.is_ascii_uppercase() && prev_lower {
            out.push('_');
        }
        if c == ' ' || c == '-' {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
            continue;
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        out.push(c.to_ascii_lowercase());
    }
    out
}

const FIELDS: &[&str] = &[
    "name",
    "email",
    "country",
    "niche",
    "daily_limit",
    "premium_ratio",
    "timezone",
    "business_hours",
    "webhook_url",
    "phone_format",
    "required_fields",
    "field_mapping",
    "default_values",
    "content_type",
    "auth",
    "valid_phone_only",
];

fn parse_bool(v: &Value) -> Result<bool, String> {
    match v {
        Value::Bool(b) => Ok(*b),
        Value::Null => Ok(false),
        Value::Number(n) if n.as_i64() == Some(0) => Ok(false),
        Value::Number(n) if n.as_i64() == Some(1) => Ok(true),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" | "" => Ok(false),
            _ => Err("must be true or false".into()),
        },
        _ => Err("must be true or false".into()),
    }
}

/// A rename whose new name is a key the payload already has (and that is not itself renamed
/// away) would overwrite that field: `{"name": "email"}` would lose the e-mail.
fn mapping_collision(
    mapping: &BTreeMap<String, String>,
    required: &[String],
    defaults: &BTreeMap<String, Value>,
) -> Option<String> {
    let present: Vec<&str> = crate::transform::STANDARD_FIELDS
        .iter()
        .copied()
        .chain(required.iter().map(String::as_str))
        .chain(defaults.keys().map(String::as_str))
        .collect();
    mapping.iter().find_map(|(from, to)| {
        (to != from && present.contains(&to.as_str()) && !mapping.contains_key(to)).then(|| {
            format!("{from} → {to}: the payload already has a field \"{to}\", which this would overwrite")
        })
    })
}

fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_daily_limit(v: &Value) -> Result<u32, String> {
    let msg = || format!("must be a whole number from 1 to {MAX_DAILY_LIMIT}");
    let n = match v {
        Value::Number(n) => n.as_i64().ok_or_else(msg)?,
        Value::String(s) => s.trim().parse::<i64>().map_err(|_| msg())?,
        _ => return Err(msg()),
    };
    u32::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_DAILY_LIMIT).contains(n))
        .ok_or_else(msg)
}

fn parse_premium_ratio(v: &Value) -> Result<u8, String> {
    let range = "must be a whole percent from 0 to 100, e.g. 70 or \"70%\"";
    let ambiguous =
        "is ambiguous: a fraction such as 0.7 could mean 0.7% or 70%; write 70 or \"70%\"";
    let n: i64 = match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i,
            None => return Err(ambiguous.into()),
        },
        Value::String(s) => {
            let t = s.trim();
            let (digits, percent) = match t.strip_suffix('%') {
                Some(d) => (d.trim(), true),
                None => (t, false),
            };
            match digits.parse::<i64>() {
                Ok(i) => i,
                Err(_) if !percent && digits.parse::<f64>().is_ok() => return Err(ambiguous.into()),
                Err(_) => return Err(range.into()),
            }
        }
        _ => return Err(range.into()),
    };
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= 100)
        .ok_or_else(|| range.into())
}

fn is_field_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

fn parse_required_fields(v: &Value) -> Result<Vec<String>, String> {
    let items: Vec<String> = match v {
        Value::Null => vec![],
        Value::String(s) => s.split(',').map(|f| f.trim().to_string()).collect(),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(|s| s.trim().to_string())
                    .ok_or("must be a list of field names")
            })
            .collect::<Result<_, _>>()?,
        _ => return Err("must be a list of field names or \"name,email,phone\"".into()),
    };
    let mut out: Vec<String> = Vec::new();
    for f in items.into_iter().filter(|f| !f.is_empty()) {
        if !is_field_name(&f) {
            return Err(format!(
                "\"{f}\" is not a field name (letters, digits, _ - .)"
            ));
        }
        if !out.contains(&f) {
            out.push(f);
        }
    }
    Ok(out)
}

fn parse_field_mapping(v: &Value) -> Result<BTreeMap<String, String>, String> {
    if v.is_null() {
        return Ok(BTreeMap::new());
    }
    let obj = v
        .as_object()
        .ok_or("must be an object of renames, e.g. {\"name\": \"full_name\"}")?;
    let mut out = BTreeMap::new();
    for (from, to) in obj {
        let to = to
            .as_str()
            .map(str::trim)
            .ok_or_else(|| format!("{from}: the new name must be a string"))?;
        if !is_field_name(from.trim()) || !is_field_name(to) {
            return Err(format!("{from} → {to}: names are letters, digits, _ - ."));
        }
        out.insert(from.trim().to_string(), to.to_string());
    }
    let mut targets: Vec<&String> = out.values().collect();
    targets.sort();
    if targets.windows(2).any(|w| w[0] == w[1]) {
        return Err("two fields are renamed to the same name".into());
    }
    Ok(out)
}

fn parse_default_values(v: &Value) -> Result<BTreeMap<String, Value>, String> {
    if v.is_null() {
        return Ok(BTreeMap::new());
    }
    let obj = v
        .as_object()
        .ok_or("must be an object, e.g. {\"affiliate_id\": \"A-17\"}")?;
    let mut out = BTreeMap::new();
    for (k, val) in obj {
        if !is_field_name(k.trim()) {
            return Err(format!("\"{k}\" is not a field name"));
        }
        if !(val.is_string() || val.is_number() || val.is_boolean()) {
            return Err(format!("{k}: values must be text, numbers or true/false"));
        }
        out.insert(k.trim().to_string(), val.clone());
    }
    Ok(out)
}

fn parse_email(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => {
            let e = s.trim().to_lowercase();
            let has_dot_domain = e.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'));
            if email_address::EmailAddress::is_valid(&e) && has_dot_domain {
                Ok(Some(e))
            } else {
                Err("is not a valid e-mail address".into())
            }
        }
        _ => Err("must be an e-mail address".into()),
    }
}

/// Checks operator input for a new partner (`base` = None) or a change to an existing one
/// (`base` = its current settings; absent fields keep their values, `null` clears optional
/// ones).
pub fn validate_partner(
    input: &Map<String, Value>,
    base: Option<&PartnerSpec>,
    catalog: &Catalog,
    allow: &AllowList,
) -> PartnerValidation {
    let mut errors = BTreeMap::new();
    let mut warnings = Vec::new();
    let mut fields: BTreeMap<String, &Value> = BTreeMap::new();
    let mut given_as: BTreeMap<String, &String> = BTreeMap::new();
    // Values refused outright; said last, so that "is required" does not hide them.
    let mut unreadable = BTreeMap::new();
    for (key, value) in input {
        let k = normalize_key(key);
        if READ_ONLY.contains(&k.as_str()) {
            continue;
        }
        if !FIELDS.contains(&k.as_str()) {
            errors.insert(key.clone(), "unknown field".to_string());
            continue;
        }
        if let Some(problem) = crate::text::control_problem_in(value, true) {
            unreadable.insert(key.clone(), problem);
            continue;
        }
        // Two spellings of one setting (`webhook` and `webhook_url`): which one is meant
        // cannot be guessed, so neither is taken.
        if let Some(first) = given_as.get(&k) {
            let msg = format!("\"{first}\" and \"{key}\" both set {k}: send one of them");
            errors.insert(key.clone(), msg.clone());
            errors.insert((*first).clone(), msg);
            continue;
        }
        given_as.insert(k.clone(), key);
        fields.insert(k, value);
    }
    let get = |k: &str| fields.get(k).copied();
    let mut err = |k: &str, m: String| {
        errors.insert(k.to_string(), m);
    };

    let name = match get("name") {
        Some(v) => match as_text(v) {
            Some(s) if !s.is_empty() && s.chars().count() <= 200 => Some(s),
            Some(s) if !s.is_empty() => {
                err("name", "must be at most 200 characters".into());
                None
            }
            _ => {
                err("name", "is required".into());
                None
            }
        },
        None => base.map(|b| b.name.clone()).or_else(|| {
            err("name", "is required".into());
            None
        }),
    };

    let email = match get("email") {
        Some(v) => parse_email(v).map_err(|e| err("email", e)).ok().flatten(),
        None => base.and_then(|b| b.email.clone()),
    };

    let country = match get("country").map(|v| (v, as_text(v))) {
        Some((_, Some(c))) if !c.is_empty() => catalog
            .known_market(&c)
            .map(|m| m.slug.clone())
            .map_err(|e| err("country", e))
            .ok(),
        Some(_) => {
            err("country", "is required".into());
            None
        }
        None => base.map(|b| b.country.clone()).or_else(|| {
            err("country", "is required".into());
            None
        }),
    };

    let niche = match get("niche").map(as_text) {
        Some(Some(n)) if !n.is_empty() => catalog
            .known_niche(&n)
            .map(|x| x.slug.clone())
            .map_err(|e| err("niche", e))
            .ok(),
        Some(_) => {
            err("niche", "is required".into());
            None
        }
        None => base.map(|b| b.niche.clone()).or_else(|| {
            err("niche", "is required".into());
            None
        }),
    };

    let daily_limit = match get("daily_limit") {
        Some(v) => parse_daily_limit(v).map_err(|e| err("daily_limit", e)).ok(),
        None => Some(base.map_or_else(
            || {
                warnings.push(format!(
                    "daily_limit not given: set to {DEFAULT_DAILY_LIMIT} leads per day"
                ));
                DEFAULT_DAILY_LIMIT
            },
            |b| b.daily_limit,
        )),
    };

    let premium_ratio = match get("premium_ratio") {
        Some(v) => parse_premium_ratio(v)
            .map_err(|e| err("premium_ratio", e))
            .ok(),
        None => Some(base.map_or_else(
            || {
                warnings.push(format!(
                    "premium_ratio not given: set to {DEFAULT_PREMIUM_RATIO}%"
                ));
                DEFAULT_PREMIUM_RATIO
            },
            |b| b.premium_ratio,
        )),
    };

    let market_timezone = || {
        country
            .as_deref()
            .and_then(|c| catalog.market_by_slug(c))
            .map(|m| m.default_timezone.clone())
    };
    let timezone = match get("timezone") {
        None => base.map(|b| b.timezone.clone()).or_else(market_timezone),
        Some(Value::Null) => market_timezone(),
        Some(v) => match as_text(v).filter(|t| !t.is_empty()) {
            Some(t) => match chrono_tz::Tz::from_str_insensitive(&t) {
                Ok(tz) => Some(tz.name().to_string()),
                Err(_) => {
                    err(
                        "timezone",
                        format!(
                            "unknown timezone \"{t}\" (use an IANA name such as Europe/Berlin)"
                        ),
                    );
                    None
                }
            },
            None => {
                err("timezone", "must be an IANA timezone name".into());
                None
            }
        },
    };

    let business_hours = match get("business_hours") {
        Some(Value::Null) => None,
        Some(v) => match BusinessHours::from_json(v) {
            Ok(h) => {
                if h.is_never_open() {
                    warnings.push(
                        "business_hours has no open day: this partner will receive no leads".into(),
                    );
                }
                Some(h)
            }
            Err(e) => {
                err("business_hours", e);
                None
            }
        },
        None => base.and_then(|b| b.business_hours.clone()),
    };

    let mut webhook = None;
    let webhook_url = match get("webhook_url") {
        Some(v) => match v.as_str().map(str::trim).filter(|s| !s.is_empty()) {
            Some(u) => match parse_webhook_url(u, allow) {
                Ok(w) => {
                    let s = w.url.to_string();
                    webhook = Some(w);
                    Some(s)
                }
                Err(p) => {
                    err("webhook_url", p.to_string());
                    None
                }
            },
            None => {
                err("webhook_url", "is required".into());
                None
            }
        },
        None => match base {
            Some(b) => {
                webhook = parse_webhook_url(&b.webhook_url, allow).ok();
                Some(b.webhook_url.clone())
            }
            None => {
                err("webhook_url", "is required".into());
                None
            }
        },
    };

    let phone_format = match get("phone_format") {
        Some(Value::Null) | None => {
            Some(base.map_or(PhoneFormat::International, |b| b.phone_format))
        }
        Some(v) => match v.as_str().and_then(PhoneFormat::parse) {
            Some(f) => Some(f),
            None => {
                err(
                    "phone_format",
                    "must be one of: international, national, local".into(),
                );
                None
            }
        },
    };

    let required_fields = match get("required_fields") {
        Some(v) => parse_required_fields(v)
            .map_err(|e| err("required_fields", e))
            .ok(),
        None => Some(base.map_or_else(Vec::new, |b| b.required_fields.clone())),
    };
    let field_mapping = match get("field_mapping") {
        Some(v) => parse_field_mapping(v)
            .map_err(|e| err("field_mapping", e))
            .ok(),
        None => Some(base.map_or_else(BTreeMap::new, |b| b.field_mapping.clone())),
    };
    let default_values = match get("default_values") {
        Some(v) => parse_default_values(v)
            .map_err(|e| err("default_values", e))
            .ok(),
        None => Some(base.map_or_else(BTreeMap::new, |b| b.default_values.clone())),
    };
    let content_type = match get("content_type") {
        Some(Value::Null) | None => Some(base.map_or(ContentType::Json, |b| b.content_type)),
        Some(v) => match v.as_str().and_then(ContentType::parse) {
            Some(c) => Some(c),
            None => {
                err("content_type", "must be json or form".into());
                None
            }
        },
    };
    let auth = match get("auth") {
        Some(v) => PartnerAuth::parse(v).map_err(|e| err("auth", e)).ok(),
        None => Some(base.and_then(|b| b.auth.clone())),
    };
    let valid_phone_only = match get("valid_phone_only") {
        Some(v) => parse_bool(v).map_err(|e| err("valid_phone_only", e)).ok(),
        None => Some(base.is_some_and(|b| b.valid_phone_only)),
    };
    if let (Some(m), Some(r), Some(d)) = (&field_mapping, &required_fields, &default_values) {
        if let Some(problem) = mapping_collision(m, r, d) {
            err("field_mapping", problem);
        }
    }

    errors.extend(unreadable);
    let result = match (
        name,
        country,
        niche,
        daily_limit,
        premium_ratio,
        timezone,
        webhook_url,
        phone_format,
        required_fields,
        field_mapping,
        default_values,
        content_type,
        auth,
        valid_phone_only,
    ) {
        (
            Some(name),
            Some(country),
            Some(niche),
            Some(daily_limit),
            Some(premium_ratio),
            Some(timezone),
            Some(webhook_url),
            Some(phone_format),
            Some(required_fields),
            Some(field_mapping),
            Some(default_values),
            Some(content_type),
            Some(auth),
            Some(valid_phone_only),
        ) if errors.is_empty() => Ok(PartnerSpec {
            name,
            email,
            country,
            niche,
            daily_limit,
            premium_ratio,
            timezone,
            business_hours,
            webhook_url,
            phone_format,
            required_fields,
            field_mapping,
            default_values,
            content_type,
            auth,
            valid_phone_only,
        }),
        _ => Err(errors),
    };
    PartnerValidation {
        result,
        webhook,
        warnings,
    }
}

#[cfg(test)]
mod tests;
