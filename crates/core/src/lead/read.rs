//! Reading one submission: each field by the standard field it stands for, or kept as a
//! custom field, every problem collected.

use super::{known, text, Known, LeadType, SourceDefaults, MAX_CUSTOM_FIELDS, MAX_FIELD_CHARS};
use crate::catalog::Catalog;
use crate::market::Market;
use crate::phone;
use crate::text::{control_problem, control_problem_in};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A submission read field by field: the standard fields by their slot (with the key they
/// came under, to name it in errors), the custom fields, every problem so far.
pub(super) struct Read {
    std: BTreeMap<&'static str, (String, String)>,
    pub(super) custom: Map<String, Value>,
    pub(super) errors: BTreeMap<String, String>,
}

impl Read {
    pub(super) fn new(fields: &Map<String, Value>) -> Read {
        let mut r = Read {
            std: BTreeMap::new(),
            custom: Map::new(),
            errors: BTreeMap::new(),
        };
        for (key, value) in fields {
            if let Some(problem) = control_problem(key, false) {
                r.errors
                    .insert(key.clone(), format!("field name {problem}"));
                continue;
            }
            match known(key) {
                _ if crate::consent::is_consent_field(key) => {}
                Some(k) => r.standard(k, key, value),
                None => r.custom_field(key.trim(), value),
            }
        }
        if r.custom.len() > MAX_CUSTOM_FIELDS {
            r.errors.insert(
                "body".into(),
                format!("has more than {MAX_CUSTOM_FIELDS} custom fields"),
            );
        }
        r
    }

    fn custom_field(&mut self, key: &str, value: &Value) {
        if key.is_empty() {
            return;
        }
        let too_long = matches!(value, Value::String(s) if s.chars().count() > MAX_FIELD_CHARS);
        if let Some(problem) = control_problem_in(value, true) {
            self.errors.insert(key.to_string(), problem);
        } else if too_long {
            self.errors.insert(
                key.to_string(),
                format!("is longer than {MAX_FIELD_CHARS} characters"),
            );
        } else {
            self.custom.insert(key.to_string(), value.clone());
        }
    }

    fn standard(&mut self, k: Known, key: &str, value: &Value) {
        if value.is_null() {
            return;
        }
        match text(value) {
            Some(t) if t.chars().count() > MAX_FIELD_CHARS => {
                self.errors.insert(
                    key.to_string(),
                    format!("is longer than {MAX_FIELD_CHARS} characters"),
                );
            }
            Some(t) => match control_problem(&t, false) {
                Some(problem) => {
                    self.errors.insert(key.to_string(), problem);
                }
                None => {
                    self.std.entry(k.slot()).or_insert((key.to_string(), t));
                }
            },
            None if value.as_str().is_some() => {}
            None => {
                self.errors.insert(key.to_string(), "must be text".into());
            }
        }
    }

    pub(super) fn get(&self, slot: &str) -> Option<String> {
        self.std.get(slot).map(|(_, v)| v.clone())
    }

    /// The key a slot's value came under, to name it in an error.
    fn key_of(&self, slot: &str, default: &str) -> String {
        self.std
            .get(slot)
            .map_or_else(|| default.to_string(), |(k, _)| k.clone())
    }

    pub(super) fn error(&mut self, key: String, msg: impl Into<String>) {
        self.errors.insert(key, msg.into());
    }

    /// Country and niche: from the lead, else the source's defaults.
    pub(super) fn market<'c>(
        &mut self,
        defaults: &SourceDefaults,
        catalog: &'c Catalog,
    ) -> Option<&'c Market> {
        match self.get("country").or_else(|| defaults.country.clone()) {
            Some(c) => match catalog.known_market(&c) {
                Ok(m) => Some(m),
                Err(e) => {
                    self.error(self.key_of("country", "country"), e);
                    None
                }
            },
            None => {
                self.error(
                    "country".into(),
                    "is required (in the lead, or as the source's default country)",
                );
                None
            }
        }
    }

    pub(super) fn niche(&mut self, defaults: &SourceDefaults, catalog: &Catalog) -> Option<String> {
        match self.get("niche").or_else(|| defaults.niche.clone()) {
            Some(n) => match catalog.known_niche(&n) {
                Ok(x) => Some(x.slug.clone()),
                Err(e) => {
                    self.error(self.key_of("niche", "niche"), e);
                    None
                }
            },
            None => {
                self.error(
                    "niche".into(),
                    "is required (in the lead, or as the source's default niche)",
                );
                None
            }
        }
    }

    pub(super) fn lead_type(&mut self, defaults: &SourceDefaults) -> Option<LeadType> {
        match self.get("lead_type") {
            Some(t) => LeadType::parse(&t).or_else(|| {
                self.error(self.key_of("lead_type", "type"), "must be premium or raw");
                None
            }),
            None => Some(defaults.lead_type.unwrap_or(LeadType::Raw)),
        }
    }

    pub(super) fn email(&mut self) -> Option<String> {
        let e = self.get("email")?.to_lowercase();
        let has_dot_domain = e.rsplit_once('@').is_some_and(|(_, d)| d.contains('.'));
        if email_address::EmailAddress::is_valid(&e) && has_dot_domain {
            Some(e)
        } else {
            self.error(
                self.key_of("email", "email"),
                "is not a valid e-mail address",
            );
            None
        }
    }

    pub(super) fn phone(&mut self, market: Option<&Market>) -> Option<phone::Phone> {
        let p = self.get("phone")?;
        let region = market.map(|m| m.phone_region.as_str());
        phone::parse(&p, region).or_else(|| {
            let msg = match market {
                Some(m) => format!("is not a valid phone number for {}", m.slug),
                None => "is not a valid phone number".into(),
            };
            self.error(self.key_of("phone", "phone"), msg);
            None
        })
    }

    /// First and last name; a full name fills in whichever part is missing (first word,
    /// then the rest).
    pub(super) fn names(&self) -> (Option<String>, Option<String>) {
        let mut first_name = self.get("first_name");
        let mut last_name = self.get("last_name");
        if let Some(full) = self.get("name") {
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
        (first_name, last_name)
    }
}
