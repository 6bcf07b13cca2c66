//! The Add Partner / Edit form: what the operator typed, turned into the same JSON the API
//! takes (so the form and the API make the same partner), and back into the form with
//! the API's messages beside their fields when something is wrong.

use super::filter_rows::FiltersForm;
use super::form::Fields;
use super::reply_rules::ReplyForm;
use crate::views::PartnerView;
use leadrouter_core::hours::{format_time, DAYS};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The form's values as typed, one string per input.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartnerForm {
    pub name: String,
    pub email: String,
    pub country: String,
    pub niche: String,
    pub daily_limit: String,
    pub premium_ratio: String,
    /// Its share against the others of its tier (empty: 100).
    pub weight: String,
    /// Its tier (empty: 0; lower goes first).
    pub priority: String,
    pub max_concurrency: String,
    /// Caps beside the daily limit: hourly, weekly, monthly, total (empty: none).
    pub caps: [String; 4],
    /// Budgets: daily, monthly (empty: none).
    pub budget: [String; 2],
    pub timezone: String,
    pub webhook_url: String,
    pub phone_format: String,
    pub required_fields: String,
    pub always_open: bool,
    /// Per day (Monday first): `09:00-18:00`, several windows comma-separated, empty = closed.
    pub hours: Vec<(String, String)>,
    pub mapping: Vec<(String, String)>,
    pub defaults: Vec<(String, String)>,
    pub content_type: String,
    pub auth_type: String,
    pub auth_username: String,
    pub auth_header_name: String,
    pub valid_phone_only: bool,
    pub daily_summary: bool,
    /// What the partner pays per delivered lead, e.g. `12.50`; empty = not set.
    pub price_per_lead: String,
    pub erasure_webhook_url: String,
    /// How the partner's answers are read.
    pub replies: ReplyForm,
    /// The conditions a lead must meet to be offered to it.
    pub filters: FiltersForm,
}

/// The caps and budgets, as the API names them.
pub(crate) const CAPS: [&str; 4] = ["hourly", "weekly", "monthly", "total"];
pub(crate) const BUDGETS: [&str; 2] = ["daily", "monthly"];

/// An amount as typed: `500.00`.
fn money_text(v: f64) -> String {
    format!("{v:.2}")
}

const DAY_LABELS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// Empty rows offered for new key/value pairs.
const SPARE_ROWS: usize = 2;

impl PartnerForm {
    pub fn blank() -> PartnerForm {
        PartnerForm {
            always_open: true,
            hours: DAY_LABELS
                .iter()
                .map(|d| (d.to_string(), String::new()))
                .collect(),
            mapping: vec![(String::new(), String::new()); SPARE_ROWS],
            defaults: vec![(String::new(), String::new()); SPARE_ROWS],
            phone_format: "international".into(),
            content_type: "json".into(),
            auth_type: "none".into(),
            replies: ReplyForm::blank(),
            filters: FiltersForm::blank(),
            ..Default::default()
        }
    }

    /// The form filled with a partner's settings (secrets are never shown).
    pub fn of(p: &PartnerView) -> PartnerForm {
        let hours_of = |day: &str| -> String {
            let Some(hours) = &p.business_hours else {
                return String::new();
            };
            let i = DAYS.iter().position(|d| *d == day).unwrap_or_default();
            hours.days[i]
                .iter()
                .map(|&(open, close)| format!("{}-{}", format_time(open), format_time(close)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut mapping: Vec<(String, String)> = p
            .field_mapping
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        mapping.extend(vec![(String::new(), String::new()); SPARE_ROWS]);
        let mut defaults: Vec<(String, String)> = p
            .default_values
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_str().map_or_else(|| v.to_string(), str::to_string),
                )
            })
            .collect();
        defaults.extend(vec![(String::new(), String::new()); SPARE_ROWS]);
        PartnerForm {
            name: p.name.clone(),
            email: p.email.clone().unwrap_or_default(),
            country: p.country.clone(),
            niche: p.niche.clone(),
            daily_limit: p.daily_limit.to_string(),
            premium_ratio: format!("{}%", p.premium_ratio),
            weight: p.weight.to_string(),
            priority: p.priority.to_string(),
            max_concurrency: p.max_concurrency.map(|n| n.to_string()).unwrap_or_default(),
            caps: CAPS.map(|k| {
                p.caps[k]
                    .as_u64()
                    .map(|n| n.to_string())
                    .unwrap_or_default()
            }),
            budget: BUDGETS.map(|k| p.budget[k].as_f64().map(money_text).unwrap_or_default()),
            timezone: p.timezone.clone(),
            webhook_url: p.webhook_url.clone(),
            phone_format: p.phone_format.to_string(),
            required_fields: p.required_fields.join(","),
            always_open: p.business_hours.is_none(),
            hours: DAY_LABELS
                .iter()
                .zip(DAYS)
                .map(|(label, day)| (label.to_string(), hours_of(day)))
                .collect(),
            mapping,
            defaults,
            content_type: p.content_type.to_string(),
            auth_type: p.auth["type"].as_str().unwrap_or("none").to_string(),
            auth_username: p.auth["username"].as_str().unwrap_or_default().to_string(),
            auth_header_name: p.auth["name"].as_str().unwrap_or_default().to_string(),
            valid_phone_only: p.valid_phone_only,
            daily_summary: p.daily_summary,
            price_per_lead: match &p.price_per_lead {
                None => String::new(),
                Some(v) => v.to_string(),
            },
            erasure_webhook_url: p.erasure_webhook_url.clone().unwrap_or_default(),
            replies: ReplyForm::of(p.response.as_ref()),
            filters: FiltersForm::of(&p.filters),
        }
    }

    /// Reads a posted form; `extra` rows are kept so that what was typed comes back.
    pub fn read(f: &Fields) -> PartnerForm {
        let pairs = |a: &str, b: &str| -> Vec<(String, String)> {
            let (keys, values) = (f.all(a), f.all(b));
            let mut rows: Vec<(String, String)> = keys
                .iter()
                .zip(values.iter().chain(std::iter::repeat(&"")))
                .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                .collect();
            rows.retain(|(k, v)| !k.is_empty() || !v.is_empty());
            rows.extend(vec![(String::new(), String::new()); SPARE_ROWS]);
            rows
        };
        PartnerForm {
            name: f.text("name"),
            email: f.text("email"),
            country: f.text("country"),
            niche: f.text("niche"),
            daily_limit: f.text("daily_limit"),
            premium_ratio: f.text("premium_ratio"),
            weight: f.text("weight"),
            priority: f.text("priority"),
            max_concurrency: f.text("max_concurrency"),
            caps: CAPS.map(|k| f.text(&format!("cap_{k}"))),
            budget: BUDGETS.map(|k| f.text(&format!("budget_{k}"))),
            timezone: f.text("timezone"),
            webhook_url: f.text("webhook_url"),
            phone_format: f.text("phone_format"),
            required_fields: f.text("required_fields"),
            always_open: f.checked("always_open"),
            hours: DAY_LABELS
                .iter()
                .zip(DAYS)
                .map(|(label, day)| (label.to_string(), f.text(&format!("hours_{day}"))))
                .collect(),
            mapping: pairs("map_from", "map_to"),
            defaults: pairs("default_key", "default_value"),
            content_type: f.text("content_type"),
            auth_type: f.text("auth_type"),
            auth_username: f.text("auth_username"),
            auth_header_name: f.text("auth_header_name"),
            valid_phone_only: f.checked("valid_phone_only"),
            daily_summary: f.checked("daily_summary"),
            price_per_lead: f.text("price_per_lead"),
            erasure_webhook_url: f.text("erasure_webhook_url"),
            replies: ReplyForm::read(f),
            filters: FiltersForm::read(f),
        }
    }

    /// The API input for these values. A new partner leaves out what was left empty (the
    /// API's defaults apply, with their warnings); a change sends every field, an empty
    /// optional one as `null`, and leaves the credentials alone unless new ones were typed.
    /// Form-level problems (a half-typed credential, an unreadable hours window) are
    /// returned under the API's field names.
    pub fn to_input(
        &self,
        f: &Fields,
        editing: Option<&PartnerView>,
    ) -> (Map<String, Value>, BTreeMap<String, String>) {
        let mut input = Map::new();
        let mut errors = BTreeMap::new();
        // Emptied on an edit: an optional field is cleared, a required one is sent empty
        // so that the API says it is required.
        let text = |k: &str, v: &str, input: &mut Map<String, Value>| {
            if !v.is_empty() {
                input.insert(k.into(), json!(v));
            } else if editing.is_some() {
                let empty = if matches!(k, "email" | "price_per_lead" | "erasure_webhook_url") {
                    Value::Null
                } else {
                    json!("")
                };
                input.insert(k.into(), empty);
            }
        };
        text("name", &self.name, &mut input);
        text("email", &self.email, &mut input);
        text("country", &self.country, &mut input);
        text("niche", &self.niche, &mut input);
        text("daily_limit", &self.daily_limit, &mut input);
        text("premium_ratio", &self.premium_ratio, &mut input);
        // Emptied: back to the defaults (the guide's lowest count first).
        let or_default = |v: &str, default: &str| {
            if v.is_empty() {
                default.to_string()
            } else {
                v.to_string()
            }
        };
        input.insert("weight".into(), json!(or_default(&self.weight, "100")));
        input.insert("priority".into(), json!(or_default(&self.priority, "0")));
        input.insert(
            "max_concurrency".into(),
            match self.max_concurrency.trim() {
                "" => serde_json::Value::Null,
                n => json!(n),
            },
        );
        // Caps and budgets: each empty one is none; all empty on a new partner: left out.
        let members = |names: &[&str], values: &[String]| -> Option<Value> {
            let m: Map<String, Value> = names
                .iter()
                .zip(values)
                .map(|(k, v)| {
                    let v = v.trim();
                    (
                        k.to_string(),
                        if v.is_empty() { Value::Null } else { json!(v) },
                    )
                })
                .collect();
            (editing.is_some() || m.values().any(|v| !v.is_null())).then_some(Value::Object(m))
        };
        if let Some(caps) = members(&CAPS, &self.caps) {
            input.insert("caps".into(), caps);
        }
        if let Some(budget) = members(&BUDGETS, &self.budget) {
            input.insert("budget".into(), budget);
        }
        text("webhook_url", &self.webhook_url, &mut input);
        text("phone_format", &self.phone_format, &mut input);
        text("content_type", &self.content_type, &mut input);
        text("price_per_lead", &self.price_per_lead, &mut input);
        text("erasure_webhook_url", &self.erasure_webhook_url, &mut input);
        if !self.timezone.is_empty() {
            input.insert("timezone".into(), json!(self.timezone));
        }
        input.insert("required_fields".into(), json!(self.required_fields));
        input.insert("valid_phone_only".into(), json!(self.valid_phone_only));
        input.insert("daily_summary".into(), json!(self.daily_summary));
        match self.business_hours() {
            Ok(h) => {
                input.insert("business_hours".into(), h);
            }
            Err(days) => {
                let all: Vec<String> = days.iter().map(|(_, e)| e.clone()).collect();
                errors.insert("business_hours".into(), all.join("; "));
                for (i, e) in days {
                    errors.insert(format!("hours_{i}"), e);
                }
            }
        }
        let rows = |rows: &[(String, String)]| -> Map<String, Value> {
            rows.iter()
                .filter(|(k, _)| !k.is_empty())
                .map(|(k, v)| (k.clone(), json!(v)))
                .collect()
        };
        input.insert("field_mapping".into(), Value::Object(rows(&self.mapping)));
        input.insert("default_values".into(), Value::Object(rows(&self.defaults)));
        input.insert("filters".into(), self.filters.to_input());
        if let Some(response) = self.replies.to_input(editing.is_some()) {
            input.insert("response".into(), response);
        }
        match self.auth(f, editing) {
            Ok(Some(auth)) => {
                input.insert("auth".into(), auth);
            }
            Ok(None) => {}
            Err(e) => {
                errors.insert("auth".into(), e);
            }
        }
        (input, errors)
    }

    /// The week as the API takes it, or every day that is written wrong (its index and
    /// what is wrong), not only the first.
    fn business_hours(&self) -> Result<Value, Vec<(usize, String)>> {
        if self.always_open {
            return Ok(Value::Null);
        }
        let mut obj = Map::new();
        let mut wrong = Vec::new();
        for (i, ((_, typed), day)) in self.hours.iter().zip(DAYS).enumerate() {
            let mut windows = Vec::new();
            for w in typed.split(',').map(str::trim).filter(|w| !w.is_empty()) {
                match w.split_once('-') {
                    Some((open, close)) => windows.push(json!([open.trim(), close.trim()])),
                    None => {
                        wrong.push((i, format!("{day}: write a window as 09:00-18:00")));
                        break;
                    }
                }
            }
            match windows.len() {
                0 => {}
                1 => {
                    obj.insert(day.into(), windows.remove(0));
                }
                _ => {
                    obj.insert(day.into(), Value::Array(windows));
                }
            }
        }
        if wrong.is_empty() {
            Ok(Value::Object(obj))
        } else {
            Err(wrong)
        }
    }

    /// The credentials to send: `None` to keep the current ones (editing, same kind, nothing
    /// new typed).
    fn auth(&self, f: &Fields, editing: Option<&PartnerView>) -> Result<Option<Value>, String> {
        let secret = |k: &str| f.get(k).unwrap_or_default().to_string();
        let current = editing
            .and_then(|p| p.auth["type"].as_str())
            .unwrap_or("none");
        let kind = self.auth_type.as_str();
        let (a, b) = match kind {
            "bearer" => (String::new(), secret("auth_token")),
            "basic" => (self.auth_username.clone(), secret("auth_password")),
            "header" => (self.auth_header_name.clone(), secret("auth_header_value")),
            "none" | "" => {
                return Ok(if editing.is_some() && current != "none" {
                    Some(Value::Null)
                } else {
                    None
                })
            }
            other => return Err(format!("unknown authentication \"{other}\"")),
        };
        if b.is_empty() {
            if kind == current {
                return Ok(None);
            }
            return Err(match kind {
                "bearer" => "enter the token".into(),
                "basic" => "enter the password".into(),
                _ => "enter the header's value".into(),
            });
        }
        Ok(Some(match kind {
            "bearer" => json!({"type": "bearer", "token": b}),
            "basic" => json!({"type": "basic", "username": a, "password": b}),
            _ => json!({"type": "header", "name": a, "value": b}),
        }))
    }
}
