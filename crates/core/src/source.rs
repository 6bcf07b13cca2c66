//! Lead sources: where leads come from, and the defaults applied to their leads.

use crate::catalog::Catalog;
use crate::input::{snake_case, Given, Input, Keys};
use crate::secret::Secret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Webhook,
    LandingPage,
    Facebook,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Webhook => "webhook",
            SourceKind::LandingPage => "landing_page",
            SourceKind::Facebook => "facebook",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match snake_case(s).as_str() {
            "webhook" => Some(SourceKind::Webhook),
            "landing_page" | "landingpage" | "form" => Some(SourceKind::LandingPage),
            "facebook" | "facebook_lead_ads" | "facebook_ads" => Some(SourceKind::Facebook),
            _ => None,
        }
    }

    /// The inbound path (after the public base URL) a source of this kind posts to.
    pub fn inbound_path(self, token: &str) -> String {
        match self {
            SourceKind::Facebook => format!("/api/facebook/{token}"),
            _ => format!("/api/webhook/{token}"),
        }
    }
}

pub use crate::lead::LeadType;

/// Facebook Lead Ads credentials of a source. Secrets: never shown back.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacebookSettings {
    pub app_secret: Secret,
    pub verify_token: Secret,
    pub access_token: Secret,
}

impl std::fmt::Debug for FacebookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FacebookSettings(***)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSpec {
    pub name: String,
    pub kind: SourceKind,
    pub default_country: Option<String>,
    pub default_niche: Option<String>,
    pub default_lead_type: Option<LeadType>,
    pub source_label: Option<String>,
    pub redirect_url: Option<String>,
    pub facebook: Option<FacebookSettings>,
    pub active: bool,
    /// What the operator pays the supplier for each of its leads delivered, in cents.
    pub cost_per_lead_cents: Option<i64>,
    /// Leads accepted per operator day; past it the inbound answers 429.
    pub daily_cap: Option<u32>,
    /// Where its tracker hears of its leads (API.md "Suppliers").
    pub postback_url: Option<crate::postback::PostbackTemplate>,
    /// The events it hears of (default all four).
    pub postback_events: Vec<String>,
    /// Seconds an inbound request waits for the lead's first outcome (0: answers at once).
    pub wait_for_delivery: u8,
}

/// The longest an inbound request may wait for its lead's outcome.
pub const MAX_WAIT_FOR_DELIVERY: u8 = 25;

impl SourceSpec {
    /// What this source supplies to its leads; `fallback_label` names the source in a lead
    /// when the source has no label of its own.
    pub fn lead_defaults(&self, fallback_label: &str) -> crate::lead::SourceDefaults {
        crate::lead::SourceDefaults {
            country: self.default_country.clone(),
            niche: self.default_niche.clone(),
            lead_type: self.default_lead_type,
            label: Some(
                self.source_label
                    .clone()
                    .unwrap_or_else(|| fallback_label.to_string()),
            ),
        }
    }
}

const READ_ONLY: &[&str] = &[
    "id",
    "created_at",
    "updated_at",
    "token",
    "token_prefix",
    "inbound_url",
    "success",
];
const FIELDS: &[&str] = &[
    "name",
    "kind",
    "default_country",
    "default_niche",
    "default_lead_type",
    "source_label",
    "redirect_url",
    "facebook",
    "status",
    "wait_for_delivery",
    "cost_per_lead",
    "daily_cap",
    "postback_url",
    "postback_events",
];

fn opt_text(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.trim().to_string())),
        _ => Err("must be text".into()),
    }
}

/// An absolute http(s) URL: where a visitor's browser is sent after a form post.
fn parse_redirect(s: &str) -> Result<String, String> {
    let url = url::Url::parse(s).map_err(|e| format!("is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("must be an absolute http(s) URL".into());
    }
    Ok(url.to_string())
}

fn parse_facebook(v: &Value) -> Result<Option<FacebookSettings>, String> {
    if v.is_null() {
        return Ok(None);
    }
    let obj = v
        .as_object()
        .ok_or("must be {\"app_secret\", \"verify_token\", \"access_token\"}")?;
    let text = |k: &str| {
        obj.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| format!("\"{k}\" is required"))
    };
    Ok(Some(FacebookSettings {
        app_secret: Secret::new(text("app_secret")?),
        verify_token: Secret::new(text("verify_token")?),
        access_token: Secret::new(text("access_token")?),
    }))
}

const KEYS: Keys<'static> = Keys {
    normalize: snake_case,
    known: FIELDS,
    read_only: READ_ONLY,
};

/// Checks operator input for a new source (`base` = None) or a change to one.
pub fn validate_source(
    input: &Map<String, Value>,
    base: Option<&SourceSpec>,
    catalog: &Catalog,
    allow: &crate::ssrf::AllowList,
) -> Result<SourceSpec, BTreeMap<String, String>> {
    let mut f = Input::read(input, &KEYS);
    let name = name(&mut f, base);
    let kind = kind(&mut f, base);
    let default_country = optional(
        &mut f,
        "default_country",
        base.map(|b| &b.default_country),
        |c| catalog.known_market(&c).map(|m| m.slug.clone()),
    );
    let default_niche = optional(
        &mut f,
        "default_niche",
        base.map(|b| &b.default_niche),
        |n| catalog.known_niche(&n).map(|x| x.slug.clone()),
    );
    let default_lead_type = optional(
        &mut f,
        "default_lead_type",
        base.map(|b| &b.default_lead_type),
        |t| LeadType::parse(&t).ok_or_else(|| "must be premium or raw".into()),
    );
    let source_label = optional(&mut f, "source_label", base.map(|b| &b.source_label), |l| {
        if l.chars().count() > 100 {
            Err("must be at most 100 characters".into())
        } else {
            Ok(l)
        }
    });
    let redirect_url = optional(&mut f, "redirect_url", base.map(|b| &b.redirect_url), |u| {
        parse_redirect(&u)
    });
    if redirect_url.is_some() && kind.is_some_and(|k| k != SourceKind::LandingPage) {
        f.error(
            "redirect_url",
            "only landing_page sources redirect after a post",
        );
    }
    let facebook = facebook(&mut f, base, kind);
    let active = status(&mut f, base);
    let wait_for_delivery = f.take(
        "wait_for_delivery",
        |v| match v {
            Value::Null => Ok(0),
            v => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| *n <= u64::from(MAX_WAIT_FOR_DELIVERY))
                .map(|n| n as u8)
                .ok_or_else(|| {
                    format!("must be a number of seconds from 0 to {MAX_WAIT_FOR_DELIVERY}")
                }),
        },
        |_| Some(base.map_or(0, |b| b.wait_for_delivery)),
    );
    let cost_per_lead_cents = f.take(
        "cost_per_lead",
        |v| match v {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            v => crate::conversion::parse_money(v).map(Some),
        },
        |_| Some(base.and_then(|b| b.cost_per_lead_cents)),
    );
    let daily_cap = f.take(
        "daily_cap",
        |v| match v {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            v => v
                .as_u64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                .filter(|n| (1..=u64::from(crate::partner::MAX_DAILY_LIMIT)).contains(n))
                .map(|n| Some(n as u32))
                .ok_or_else(|| "must be a whole number of leads a day, at least 1".to_string()),
        },
        |_| Some(base.and_then(|b| b.daily_cap)),
    );
    let postback_url = optional(&mut f, "postback_url", base.map(|b| &b.postback_url), |u| {
        crate::postback::PostbackTemplate::parse(&u, allow)
    });
    let postback_events = f.take("postback_events", crate::postback::parse_events, |_| {
        Some(base.map_or_else(
            || {
                crate::postback::EVENTS
                    .iter()
                    .map(|e| e.to_string())
                    .collect()
            },
            |b| b.postback_events.clone(),
        ))
    });
    let spec = (|| {
        Some(SourceSpec {
            name: name?,
            kind: kind?,
            default_country,
            default_niche,
            default_lead_type,
            source_label,
            redirect_url,
            facebook,
            active,
            wait_for_delivery: wait_for_delivery?,
            cost_per_lead_cents: cost_per_lead_cents?,
            daily_cap: daily_cap?,
            postback_url,
            postback_events: postback_events?,
        })
    })();
    f.finish(spec)
}

fn name(f: &mut Input<'_>, base: Option<&SourceSpec>) -> Option<String> {
    f.take(
        "name",
        |v| match opt_text(v)? {
            Some(n) if n.chars().count() <= 200 => Ok(n),
            Some(_) => Err("must be at most 200 characters".into()),
            None => Err("is required".into()),
        },
        |f| base.map(|b| b.name.clone()).or_else(|| f.required("name")),
    )
}

fn kind(f: &mut Input<'_>, base: Option<&SourceSpec>) -> Option<SourceKind> {
    f.take(
        "kind",
        |v| {
            v.as_str()
                .and_then(SourceKind::parse)
                .ok_or_else(|| "must be one of: webhook, landing_page, facebook".into())
        },
        |f| {
            base.map(|b| b.kind).or_else(|| {
                f.error("kind", "is required (webhook, landing_page or facebook)");
                None
            })
        },
    )
}

/// `status`: active (the default) or disabled.
fn status(f: &mut Input<'_>, base: Option<&SourceSpec>) -> bool {
    f.take(
        "status",
        |v| match v.as_str().map(str::trim) {
            Some("active") => Ok(true),
            Some("disabled") => Ok(false),
            _ => Err("must be active or disabled".into()),
        },
        |_| Some(base.is_none_or(|b| b.active)),
    )
    .unwrap_or(true)
}

/// An optional setting: absent keeps `base`, `null` or empty text clears it, text is
/// `parse`d (a problem is recorded under `k`).
fn optional<T: Clone>(
    f: &mut Input<'_>,
    k: &str,
    base: Option<&Option<T>>,
    parse: impl FnOnce(String) -> Result<T, String>,
) -> Option<T> {
    match f.given(k) {
        Given::Absent => base.cloned().flatten(),
        Given::Null => None,
        Given::Value(v) => match opt_text(v).and_then(|t| t.map(parse).transpose()) {
            Ok(t) => t,
            Err(e) => {
                f.error(k, e);
                None
            }
        },
    }
}

/// Facebook credentials: required for a facebook source, refused for any other.
fn facebook(
    f: &mut Input<'_>,
    base: Option<&SourceSpec>,
    kind: Option<SourceKind>,
) -> Option<FacebookSettings> {
    let mut malformed = false;
    let facebook = match f.raw("facebook") {
        Some(v) => match parse_facebook(v) {
            Ok(fb) => fb,
            Err(e) => {
                malformed = true;
                f.error("facebook", e);
                None
            }
        },
        None => base.and_then(|b| b.facebook.clone()),
    };
    match kind {
        Some(SourceKind::Facebook) if facebook.is_none() && !malformed => f.error(
            "facebook",
            "is required for a facebook source: {\"app_secret\", \"verify_token\", \"access_token\"}",
        ),
        Some(k) if k != SourceKind::Facebook && facebook.is_some() => {
            f.error("facebook", "only facebook sources have Facebook settings")
        }
        _ => {}
    }
    facebook
}

#[cfg(test)]
mod tests;
