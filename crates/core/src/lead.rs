//! An inbound lead: field aliases, normalization and validation.
//!
//! Sources write fields many ways (`first_name`, `firstName`, `First Name`, `fname`); they
//! are recognised by their letters alone. Fields we do not know are kept as the lead's
//! custom fields (`amount_lost`, `utm_source`, ...). Every problem is reported at once.

use crate::catalog::Catalog;
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

impl std::fmt::Display for LeadType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    /// The source it came from (none for a lead made up, such as a test lead).
    pub source_id: Option<i64>,
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
    /// Consent evidence, when the source sent it.
    #[serde(default)]
    pub consent: Option<crate::consent::Consent>,
}

impl NewLead {
    /// The lead as routing reads it, as if sent by source `source_id`.
    pub fn facts(&self, source_id: Option<i64>) -> LeadFacts<'_> {
        LeadFacts {
            lead_type: self.lead_type,
            first_name: self.first_name.as_deref(),
            last_name: self.last_name.as_deref(),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
            phone_valid: self.phone.is_some() && self.phone_valid,
            country: &self.country,
            niche: &self.niche,
            source_label: self.source_label.as_deref(),
            source_id,
            custom_fields: &self.custom_fields,
        }
    }

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

impl Known {
    /// Where a standard field's value is kept while reading.
    fn slot(self) -> &'static str {
        match self {
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
        }
    }
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
    let mut r = Read::new(fields);
    let market = r.market(defaults, catalog);
    let niche = r.niche(defaults, catalog);
    let lead_type = r.lead_type(defaults);
    let email = r.email();
    let phone = r.phone(market);
    if r.get("email").is_none() && r.get("phone").is_none() {
        let msg = "give an e-mail address or a phone number (at least one is required)";
        r.error("email".into(), msg);
        r.error("phone".into(), msg);
    }
    let (first_name, last_name) = r.names();
    let external_id = r.get("external_id");
    let source_label = r.get("source").or_else(|| defaults.label.clone());
    let consent = match crate::consent::read_consent(fields) {
        Ok(c) => c,
        Err(errors) => {
            r.errors.extend(errors);
            None
        }
    };
    match (market, niche, lead_type) {
        (Some(m), Some(niche), Some(lead_type)) if r.errors.is_empty() => Ok(NewLead {
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
            custom_fields: r.custom,
            consent,
        }),
        _ => Err(r.errors),
    }
}

mod read;
use read::Read;

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
