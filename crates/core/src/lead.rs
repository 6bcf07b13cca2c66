//! An inbound lead: field aliases, normalization and validation.
//!
//! Sources write fields many ways (`first_name`, `firstName`, `First Name`, `fname`); they
//! are recognised by their letters alone. Fields we do not know are kept as the lead's
//! custom fields (`amount_lost`, `utm_source`, ...). Every problem is reported at once.

use crate::catalog::Catalog;
use crate::phone;
use crate::text::{control_problem, control_problem_in};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Longest text accepted in any single field.
pub const MAX_FIELD_CHARS: usize = 500;
/// Most custom fields one lead may carry.
pub const MAX_CUSTOM_FIELDS: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LeadType {
    Premium,
    Raw,
}

impl LeadType {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadType::Premium => "premium",
            LeadType::Raw => "raw",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "premium" => Some(LeadType::Premium),
            "raw" => Some(LeadType::Raw),
            _ => None,
        }
    }
}

/// What routing needs to know of a lead.
#[derive(Debug, Clone)]
pub struct LeadFacts<'a> {
    pub lead_type: LeadType,
    pub first_name: Option<&'a str>,
    pub last_name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    /// Whether libphonenumber knows the phone's range (no phone: `false`).
    pub phone_valid: bool,
    pub country: &'a str,
    pub niche: &'a str,
    pub source_label: Option<&'a str>,
    pub custom_fields: &'a Map<String, Value>,
}

/// A lead as we store it, before it has an id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewLead {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Trimmed and lower-cased.
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// Whether libphonenumber knows the phone's range; `false` without a phone.
    #[serde(default)]
    pub phone_valid: bool,
    /// Market slug.
    pub country: String,
    /// Niche slug.
    pub niche: String,
    pub lead_type: LeadType,
    pub source_label: Option<String>,
    pub external_id: Option<String>,
    pub custom_fields: Map<String, Value>,
}

impl NewLead {
    /// "First Last", or whichever part is known.
    pub fn full_name(&self) -> Option<String> {
        full_name(self.first_name.as_deref(), self.last_name.as_deref())
    }
}

pub fn full_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    match (first, last) {
        (Some(f), Some(l)) => Some(format!("{f} {l}")),
        (Some(f), None) => Some(f.to_string()),
        (None, Some(l)) => Some(l.to_string()),
        (None, None) => None,
    }
}

/// What the source supplies when the lead does not say.
#[derive(Debug, Clone, Default)]
pub struct SourceDefaults {
    pub country: Option<String>,
    pub niche: Option<String>,
    pub lead_type: Option<LeadType>,
    pub label: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Known {
    FirstName,
    LastName,
    Name,
    Email,
    Phone,
    Country,
    Niche,
    LeadType,
    ExternalId,
    Source,
}

/// A field name by its letters and digits alone, lower case: `First Name` → `firstname`.
fn compact(key: &str) -> String {
    key.chars()
        .filter(char::is_ascii_alphanumeric)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The standard field a key stands for, judged by its letters and digits alone.
fn known(key: &str) -> Option<Known> {
    Some(match compact(key).as_str() {
        "firstname" | "fname" | "givenname" | "first" | "forename" | "vorname" | "nombre" => {
            Known::FirstName
        }
        "lastname" | "lname" | "surname" | "familyname" | "last" | "nachname" | "apellido"
        | "apellidos" | "cognome" => Known::LastName,
        "name" | "fullname" | "yourname" | "contactname" => Known::Name,
        "email" | "emailaddress" | "mail" | "youremail" => Known::Email,
        "phone" | "phonenumber" | "mobile" | "mobilephone" | "mobilenumber" | "tel"
        | "telephone" | "cell" | "cellphone" | "telefon" | "telefono" | "handy" => Known::Phone,
        "country" | "countrycode" | "land" | "pais" | "paese" => Known::Country,
        "niche" | "vertical" => Known::Niche,
        "type" | "leadtype" => Known::LeadType,
        "externalid" => Known::ExternalId,
        "source" | "sourcelabel" => Known::Source,
        _ => return None,
    })
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// Validates and normalizes one submission. `fields` is the body as an object (a form body
/// arrives as strings).
pub fn normalize_lead(
    fields: &Map<String, Value>,
    defaults: &SourceDefaults,
    catalog: &Catalog,
) -> Result<NewLead, BTreeMap<String, String>> {
    let mut errors = BTreeMap::new();
    let mut std: BTreeMap<&'static str, (String, String)> = BTreeMap::new();
    let mut custom = Map::new();

    for (key, value) in fields {
        if let Some(problem) = control_problem(key, false) {
            errors.insert(key.clone(), format!("field name {problem}"));
            continue;
        }
        let Some(k) = known(key) else {
            let key = key.trim();
            if key.is_empty() {
                continue;
            }
            if let Some(problem) = control_problem_in(value, true) {
                errors.insert(key.to_string(), problem);
                continue;
            }
            if let Value::String(s) = value {
                if s.chars().count() > MAX_FIELD_CHARS {
                    errors.insert(
                        key.to_string(),
                        format!("is longer than {MAX_FIELD_CHARS} characters"),
                    );
                    continue;
                }
            }
            custom.insert(key.to_string(), value.clone());
            continue;
        };
        let slot = match k {
            Known::FirstName => "first_name",
            Known::LastName => "last_name",
            Known::Name => "name",
            Known::Email => "email",
            Known::Phone => "phone",
            Known::Country => "country",
            Known::Niche => "niche",
            Known::LeadType => "lead_type",
            Known::ExternalId => "external_id",
            Known::Source => "source",
        };
        match value {
            Value::Null => {}
            v => match text(v) {
                Some(t) if t.chars().count() > MAX_FIELD_CHARS => {
                    errors.insert(
                        key.clone(),
                        format!("is longer than {MAX_FIELD_CHARS} characters"),
                    );
                }
                Some(t) if control_problem(&t, false).is_some() => {
                    errors.insert(key.clone(), control_problem(&t, false).unwrap_or_default());
                }
                Some(t) => {
                    std.entry(slot).or_insert((key.clone(), t));
                }
                None if v.as_str().is_some() => {}
                None => {
                    errors.insert(key.clone(), "must be text".into());
                }
            },
        }
    }
    if custom.len() > MAX_CUSTOM_FIELDS {
        errors.insert(
            "body".into(),
            format!("has more than {MAX_CUSTOM_FIELDS} custom fields"),
        );
    }
    let get = |slot: &str| std.get(slot).map(|(_, v)| v.clone());
    let key_of = |slot: &str, default: &str| {
        std.get(slot)
            .map_or_else(|| default.to_string(), |(k, _)| k.clone())
    };

    // Country and niche: from the lead, else the source's defaults.
    let market = match get("country").or_else(|| defaults.country.clone()) {
        Some(c) => catalog
            .known_market(&c)
            .map_err(|e| errors.insert(key_of("country", "country"), e))
            .ok(),
        None => {
            errors.insert(
                "country".into(),
                "is required (in the lead, or as the source's default country)".into(),
            );
            None
        }
    };
    let niche = match get("niche").or_else(|| defaults.niche.clone()) {
        Some(n) => catalog
            .known_niche(&n)
            .map(|x| x.slug.clone())
            .map_err(|e| errors.insert(key_of("niche", "niche"), e))
            .ok(),
        None => {
            errors.insert(
                "niche".into(),
                "is required (in the lead, or as the source's default niche)".into(),
            );
            None
        }
    };
    let lead_type = match get("lead_type") {
        Some(t) => LeadType::parse(&t).or_else(|| {
            errors.insert(key_of("lead_type", "type"), "must be premium or raw".into());
            None
        }),
        None => Some(defaults.lead_type.unwrap_or(LeadType::Raw)),
    };

    let email = get("email").and_then(|e| {
        let e = e.to_lowercase();
        let has_dot_domain = e.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'));
        if email_address::EmailAddress::is_valid(&e) && has_dot_domain {
            Some(e)
        } else {
            errors.insert(
                key_of("email", "email"),
                "is not a valid e-mail address".into(),
            );
            None
        }
    });
    let phone_given = get("phone");
    let phone = phone_given.as_ref().and_then(|p| {
        let region = market.map(|m| m.phone_region.as_str());
        phone::parse(p, region).or_else(|| {
            let msg = match market {
                Some(m) => format!("is not a valid phone number for {}", m.slug),
                None => "is not a valid phone number".into(),
            };
            errors.insert(key_of("phone", "phone"), msg);
            None
        })
    });
    if get("email").is_none() && phone_given.is_none() {
        let msg = "give an e-mail address or a phone number (at least one is required)";
        errors.insert("email".into(), msg.into());
        errors.insert("phone".into(), msg.into());
    }

    // Names: a full name fills in whichever part is missing (first word, then the rest).
    let mut first_name = get("first_name");
    let mut last_name = get("last_name");
    if let Some(full) = get("name") {
        let mut words = full.split_whitespace();
        let first = words.next().map(str::to_owned);
        let rest = words.collect::<Vec<_>>().join(" ");
        if first_name.is_none() && last_name.is_none() {
            first_name = first;
            last_name = Some(rest).filter(|r| !r.is_empty());
        } else if last_name.is_none() {
            let f = first_name.clone().unwrap_or_default();
            last_name = full
                .strip_prefix(&f)
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty() && !f.is_empty());
        } else if first_name.is_none() {
            first_name = first;
        }
    }

    let external_id = get("external_id");
    let source_label = get("source").or_else(|| defaults.label.clone());

    match (market, niche, lead_type) {
        (Some(m), Some(niche), Some(lead_type)) if errors.is_empty() => Ok(NewLead {
            first_name,
            last_name,
            email,
            phone_valid: phone.as_ref().is_some_and(|p| p.valid),
            phone: phone.map(|p| p.e164),
            country: m.slug.clone(),
            niche,
            lead_type,
            source_label,
            external_id,
            custom_fields: custom,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests;

/// The value a lead has for `field` (any alias of a standard field, or a custom field), if
/// non-empty. Fields every payload carries (`lead_id`, `timestamp`, ...) are answered by the
/// payload builder, not here.
pub fn lead_field_value(lead: &LeadFacts<'_>, field: &str) -> Option<Value> {
    let text = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| Value::String(s.to_string()))
    };
    match known(field) {
        Some(Known::FirstName) => text(lead.first_name),
        Some(Known::LastName) => text(lead.last_name),
        Some(Known::Name) => full_name(lead.first_name, lead.last_name).map(Value::String),
        Some(Known::Email) => text(lead.email),
        Some(Known::Phone) => text(lead.phone),
        Some(Known::Country) => text(Some(lead.country)),
        Some(Known::Niche) => text(Some(lead.niche)),
        Some(Known::LeadType) => Some(Value::String(lead.lead_type.as_str().into())),
        Some(Known::Source) => text(lead.source_label),
        Some(Known::ExternalId) | None => custom_value(lead.custom_fields, field),
    }
}

/// A custom field by exact name, else by the same letters and digits (`Amount Lost` finds
/// `amount_lost`).
fn custom_value(custom: &Map<String, Value>, field: &str) -> Option<Value> {
    let found = custom.get(field).or_else(|| {
        let want = compact(field);
        custom
            .iter()
            .find(|(k, _)| compact(k) == want)
            .map(|(_, v)| v)
    })?;
    match found {
        Value::Null => None,
        Value::String(s) if s.trim().is_empty() => None,
        v => Some(v.clone()),
    }
}

/// Fields every outbound payload carries, so a partner requiring them is always satisfied.
pub const ALWAYS_PRESENT: &[&str] = &["lead_id", "timestamp", "country", "niche", "lead_type"];

/// Whether the lead can fill `field` for a partner that requires it.
pub fn lead_has_field(lead: &LeadFacts<'_>, field: &str) -> bool {
    ALWAYS_PRESENT.contains(&field.trim().to_ascii_lowercase().as_str())
        || lead_field_value(lead, field).is_some()
}
