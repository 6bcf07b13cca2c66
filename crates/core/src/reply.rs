//! Partner replies (API.md "Partner replies — the `response` setting"): how a partner's
//! answer is read when the verdict is in its body. Rules run in order on every answer, any
//! status; the first that matches decides; when none does, the status code decides as in
//! PRODUCT.md §5. The partner's lead id, an autologin URL and a reason are taken from the
//! body by path.

use crate::status::text_enum;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How much of a partner's answer is read to judge it.
pub const BODY_READ_BYTES: usize = 64 * 1024;
/// The longest autologin URL kept.
pub const REDIRECT_URL_MAX: usize = 2048;
/// The longest partner lead id and reason kept.
const TEXT_MAX: usize = 500;
/// The most rules a partner may have.
const RULES_MAX: usize = 50;

text_enum!(
    /// What a rule says an answer means.
    Reading {
        Delivered => "delivered",
        Rejected => "rejected",
        Duplicate => "duplicate",
        Retry => "retry",
    }
);

/// One step of a path: a key of an object, or an item of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

/// A dotted path into a JSON body, `[n]` for array items: `data.id`, `errors[0].code`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

impl JsonPath {
    pub fn parse(text: &str) -> Option<JsonPath> {
        let mut steps = Vec::new();
        let mut rest = text;
        loop {
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = &rest[..end];
            if !key.is_empty() {
                if key.contains(']') {
                    return None;
                }
                steps.push(Step::Key(key.to_string()));
            } else if !(steps.is_empty() && rest.starts_with('[')) {
                // An empty key: only a path that starts with an item (`[0].id`) has one.
                return None;
            }
            rest = &rest[end..];
            while let Some(r) = rest.strip_prefix('[') {
                let close = r.find(']')?;
                steps.push(Step::Index(r[..close].parse().ok()?));
                rest = &r[close + 1..];
            }
            if rest.is_empty() {
                break;
            }
            rest = rest.strip_prefix('.')?;
        }
        Some(JsonPath {
            text: text.to_string(),
            steps,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value at this path in `body`, if there is one (`null` counts as none).
    pub fn find<'a>(&self, body: &'a Value) -> Option<&'a Value> {
        let mut at = body;
        for step in &self.steps {
            at = match step {
                Step::Key(k) => at.as_object()?.get(k)?,
                Step::Index(i) => at.as_array()?.get(*i)?,
            };
        }
        (!at.is_null()).then_some(at)
    }
}

/// When a rule applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The value at the path equals this one (strings case-insensitively, numbers by value).
    Equals(JsonPath, Value),
    /// The negation of `Equals`: a missing value is not equal.
    NotEquals(JsonPath, Value),
    /// The value at the path, as text, contains this (case-insensitively).
    Contains(JsonPath, String),
    /// The path has a value (`true`) or has none (`false`).
    Exists(JsonPath, bool),
    /// The answer's status code is one of these.
    Status(Vec<u16>),
    /// The body, as text, contains this (case-insensitively); for bodies that are not JSON.
    BodyContains(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub when: Condition,
    pub then: Reading,
}

/// A partner's `response` setting.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResponseRules {
    pub rules: Vec<Rule>,
    pub partner_lead_id: Option<JsonPath>,
    pub redirect_url: Option<JsonPath>,
    pub reason: Option<JsonPath>,
}

/// What an answer said, read by a partner's rules.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// The first matching rule's reading; none when the status code decides.
    pub reading: Option<Reading>,
    pub partner_lead_id: Option<String>,
    /// Only an `https://` URL of at most [`REDIRECT_URL_MAX`] bytes.
    pub redirect_url: Option<String>,
    pub reason: Option<String>,
}

/// A value as the text a rule compares or a field keeps: strings as they are, numbers
/// and booleans written out; objects and arrays have none.
fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Whether a value in an answer is the one a rule names: strings regardless of case,
/// numbers by value, and a string against a number or a boolean by its text (`"0"` is
/// `0`, `"false"` is `false`: CRMs are not consistent about quotes).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(_), Value::String(_) | Value::Number(_) | Value::Bool(_))
        | (Value::Number(_) | Value::Bool(_), Value::String(_)) => text_of(a)
            .zip(text_of(b))
            .is_some_and(|(x, y)| x.to_lowercase() == y.to_lowercase()),
        _ => a == b,
    }
}

fn shorten(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

impl Condition {
    fn holds(&self, status: u16, json: Option<&Value>, body_lower: &str) -> bool {
        let at = |p: &JsonPath| json.and_then(|j| p.find(j));
        match self {
            Condition::Equals(p, v) => at(p).is_some_and(|x| same(x, v)),
            Condition::NotEquals(p, v) => !at(p).is_some_and(|x| same(x, v)),
            Condition::Contains(p, t) => at(p)
                .and_then(text_of)
                .is_some_and(|x| x.to_lowercase().contains(&t.to_lowercase())),
            Condition::Exists(p, want) => at(p).is_some() == *want,
            Condition::Status(codes) => codes.contains(&status),
            Condition::BodyContains(t) => body_lower.contains(&t.to_lowercase()),
        }
    }
}

impl ResponseRules {
    /// Reads an answer of `status` with `body` (at most [`BODY_READ_BYTES`] of it).
    pub fn read(&self, status: u16, body: &str) -> Reply {
        let json: Option<Value> = serde_json::from_str(body).ok();
        let body_lower = body.to_lowercase();
        let reading = self
            .rules
            .iter()
            .find(|r| r.when.holds(status, json.as_ref(), &body_lower))
            .map(|r| r.then);
        let take = |p: &Option<JsonPath>| {
            p.as_ref()
                .and_then(|p| json.as_ref().and_then(|j| p.find(j)))
                .and_then(text_of)
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        Reply {
            reading,
            partner_lead_id: take(&self.partner_lead_id).map(|s| shorten(s, TEXT_MAX)),
            redirect_url: take(&self.redirect_url).filter(|u| {
                u.len() <= REDIRECT_URL_MAX
                    && u.get(..8)
                        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
                    && url::Url::parse(u).is_ok_and(|p| p.host_str().is_some())
            }),
            reason: take(&self.reason).map(|s| shorten(s, TEXT_MAX)),
        }
    }

    /// The setting from its JSON, or each problem keyed by where it is
    /// (`response.rules[1].if`). `null` is no setting.
    pub fn parse(v: &Value) -> Result<Option<ResponseRules>, BTreeMap<String, String>> {
        let mut errors = BTreeMap::new();
        let obj = match v {
            Value::Null => return Ok(None),
            Value::Object(o) => o,
            _ => {
                errors.insert("response".into(), "must be an object with rules".into());
                return Err(errors);
            }
        };
        for k in obj.keys() {
            if !["rules", "partner_lead_id", "redirect_url", "reason"].contains(&k.as_str()) {
                errors.insert(
                    format!("response.{k}"),
                    "is not a setting (rules, partner_lead_id, redirect_url, reason)".into(),
                );
            }
        }
        let mut out = ResponseRules::default();
        match obj.get("rules") {
            None | Some(Value::Null) => {}
            Some(Value::Array(rules)) if rules.len() > RULES_MAX => {
                errors.insert(
                    "response.rules".into(),
                    format!("may hold at most {RULES_MAX} rules"),
                );
            }
            Some(Value::Array(rules)) => {
                for (i, r) in rules.iter().enumerate() {
                    match parse_rule(r) {
                        Ok(rule) => out.rules.push(rule),
                        Err((part, why)) => {
                            errors.insert(format!("response.rules[{i}]{part}"), why);
                        }
                    }
                }
            }
            Some(_) => {
                errors.insert("response.rules".into(), "must be a list of rules".into());
            }
        }
        for (name, slot) in [
            ("partner_lead_id", &mut out.partner_lead_id),
            ("redirect_url", &mut out.redirect_url),
            ("reason", &mut out.reason),
        ] {
            match obj.get(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(s)) if s.trim().is_empty() => {}
                Some(Value::String(s)) => match JsonPath::parse(s.trim()) {
                    Some(p) => *slot = Some(p),
                    None => {
                        errors.insert(format!("response.{name}"), PATH_HELP.into());
                    }
                },
                Some(_) => {
                    errors.insert(format!("response.{name}"), PATH_HELP.into());
                }
            }
        }
        if errors.is_empty() {
            Ok(Some(out))
        } else {
            Err(errors)
        }
    }
}

const PATH_HELP: &str =
    "must be a path into the answer: keys with dots, items as [n] (e.g. data.id, errors[0].code)";

fn parse_rule(r: &Value) -> Result<Rule, (&'static str, String)> {
    let obj = r
        .as_object()
        .ok_or(("", "must be an object with if and then".to_string()))?;
    if let Some(k) = obj.keys().find(|k| *k != "if" && *k != "then") {
        return Err(("", format!("{k} is not part of a rule (if, then)")));
    }
    let then = match obj.get("then") {
        Some(Value::String(s)) => Reading::parse(s.trim()).ok_or((
            ".then",
            "must be delivered, rejected, duplicate or retry".to_string(),
        ))?,
        _ => {
            return Err((
                ".then",
                "must be delivered, rejected, duplicate or retry".to_string(),
            ))
        }
    };
    let when = match obj.get("if") {
        Some(Value::Object(c)) => parse_condition(c).map_err(|why| (".if", why))?,
        _ => return Err((".if", "must be a condition object".to_string())),
    };
    Ok(Rule { when, then })
}

pub(crate) const KINDS: [&str; 6] = [
    "equals",
    "not_equals",
    "contains",
    "exists",
    "status",
    "body_contains",
];

fn parse_condition(c: &Map<String, Value>) -> Result<Condition, String> {
    if let Some(k) = c
        .keys()
        .find(|k| *k != "path" && !KINDS.contains(&k.as_str()))
    {
        return Err(format!(
            "{k} is not a condition (equals, not_equals, contains, exists, status, body_contains)"
        ));
    }
    let kinds: Vec<&str> = KINDS
        .iter()
        .copied()
        .filter(|k| c.contains_key(*k))
        .collect();
    let [kind] = kinds.as_slice() else {
        return Err(if kinds.is_empty() {
            "needs one condition: equals, not_equals, contains, exists, status or body_contains"
                .into()
        } else {
            format!("has {} conditions; a rule has one", kinds.join(" and "))
        });
    };
    let value = &c[*kind];
    let path = || -> Result<JsonPath, String> {
        match c.get("path") {
            Some(Value::String(s)) => {
                JsonPath::parse(s.trim()).ok_or_else(|| format!("path {PATH_HELP}"))
            }
            _ => Err(format!("{kind} needs a path")),
        }
    };
    let no_path = || {
        if c.contains_key("path") {
            Err(format!(
                "{kind} looks at the whole answer; it takes no path"
            ))
        } else {
            Ok(())
        }
    };
    let text = |what: &str| -> Result<String, String> {
        match value {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(format!("{what} must be some text")),
        }
    };
    Ok(match *kind {
        "equals" => Condition::Equals(path()?, value.clone()),
        "not_equals" => Condition::NotEquals(path()?, value.clone()),
        "contains" => Condition::Contains(path()?, text("contains")?),
        "exists" => match value {
            Value::Bool(b) => Condition::Exists(path()?, *b),
            _ => return Err("exists must be true or false".into()),
        },
        "status" => {
            no_path()?;
            let codes: Option<Vec<u16>> = value.as_array().and_then(|a| {
                a.iter()
                    .map(|v| {
                        v.as_u64()
                            .filter(|n| (100..=599).contains(n))
                            .map(|n| n as u16)
                    })
                    .collect()
            });
            match codes {
                Some(c) if !c.is_empty() => Condition::Status(c),
                _ => return Err("status must be a list of HTTP status codes (100–599)".into()),
            }
        }
        _ => {
            no_path()?;
            Condition::BodyContains(text("body_contains")?)
        }
    })
}

/// The setting in the shape it was given in.
impl Serialize for ResponseRules {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("rules", &self.rules)?;
        for (name, p) in [
            ("partner_lead_id", &self.partner_lead_id),
            ("redirect_url", &self.redirect_url),
            ("reason", &self.reason),
        ] {
            if let Some(p) = p {
                map.serialize_entry(name, p.as_str())?;
            }
        }
        map.end()
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        map.serialize_entry("if", &self.when)?;
        map.serialize_entry("then", &self.then)?;
        map.end()
    }
}

impl Serialize for Condition {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self {
            Condition::Equals(p, v) => {
                map.serialize_entry("path", p.as_str())?;
                map.serialize_entry("equals", v)?;
            }
            Condition::NotEquals(p, v) => {
                map.serialize_entry("path", p.as_str())?;
                map.serialize_entry("not_equals", v)?;
            }
            Condition::Contains(p, t) => {
                map.serialize_entry("path", p.as_str())?;
                map.serialize_entry("contains", t)?;
            }
            Condition::Exists(p, b) => {
                map.serialize_entry("path", p.as_str())?;
                map.serialize_entry("exists", b)?;
            }
            Condition::Status(codes) => map.serialize_entry("status", codes)?,
            Condition::BodyContains(t) => map.serialize_entry("body_contains", t)?,
        }
        map.end()
    }
}

#[cfg(test)]
mod tests;
