//! The "Partner replies" part of the Add/Edit Partner form: the `response` setting as rows
//! of path / condition / value / outcome (no JavaScript needed: blank rows are always
//! offered), and the paths of the partner's lead id, autologin URL and reason.

use super::form::Fields;
use leadrouter_core::reply::{Condition, ResponseRules};
use serde_json::{json, Map, Value};

/// Blank rule rows offered for new rules.
const SPARE_RULES: usize = 2;

/// The conditions offered, as the form names them.
pub(crate) const CONDITIONS: [(&str, &str); 7] = [
    ("equals", "equals"),
    ("not_equals", "does not equal"),
    ("contains", "contains"),
    ("exists", "exists"),
    ("not_exists", "does not exist"),
    ("status", "status is one of"),
    ("body_contains", "body contains"),
];

/// The outcomes a rule may give.
pub(crate) const OUTCOMES: [&str; 4] = ["delivered", "rejected", "duplicate", "retry"];

/// One rule as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleRow {
    pub path: String,
    pub condition: String,
    pub value: String,
    pub then: String,
}

impl RuleRow {
    fn blank() -> RuleRow {
        RuleRow {
            condition: "equals".into(),
            then: "rejected".into(),
            ..Default::default()
        }
    }

    fn is_blank(&self) -> bool {
        self.path.is_empty() && self.value.is_empty()
    }

    /// The rule in the API's shape. A value for `equals` is read as JSON when it is
    /// `true`, `false`, `null` or a number, else as text.
    fn to_json(&self) -> Value {
        let value = || -> Value {
            match self.value.as_str() {
                "true" | "false" | "null" => serde_json::from_str(&self.value).unwrap_or_default(),
                v => v
                    .parse::<serde_json::Number>()
                    .map(Value::Number)
                    .unwrap_or_else(|_| json!(v)),
            }
        };
        let path = json!(self.path);
        let condition = match self.condition.as_str() {
            "equals" => json!({"path": path, "equals": value()}),
            "not_equals" => json!({"path": path, "not_equals": value()}),
            "contains" => json!({"path": path, "contains": self.value}),
            "exists" => json!({"path": path, "exists": true}),
            "not_exists" => json!({"path": path, "exists": false}),
            "status" => {
                let codes: Vec<Value> = self
                    .value
                    .split([',', ' '])
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse::<u64>().map_or_else(|_| json!(s), |n| json!(n)))
                    .collect();
                let mut c = json!({"status": codes});
                if !self.path.is_empty() {
                    c["path"] = path;
                }
                c
            }
            _ => {
                let mut c = json!({"body_contains": self.value});
                if !self.path.is_empty() {
                    c["path"] = path;
                }
                c
            }
        };
        json!({"if": condition, "then": self.then})
    }
}

/// The part of the form as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct ReplyForm {
    pub rules: Vec<RuleRow>,
    pub partner_lead_id: String,
    pub redirect_url: String,
    pub reason: String,
}

impl ReplyForm {
    pub fn blank() -> ReplyForm {
        ReplyForm {
            rules: vec![RuleRow::blank(); SPARE_RULES],
            ..Default::default()
        }
    }

    /// A partner's setting, as rows.
    pub fn of(rules: Option<&ResponseRules>) -> ReplyForm {
        let Some(r) = rules else {
            return ReplyForm::blank();
        };
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut rows: Vec<RuleRow> = r
            .rules
            .iter()
            .map(|rule| {
                let (path, condition, value) = match &rule.when {
                    Condition::Equals(p, v) => (p.as_str(), "equals", text(v)),
                    Condition::NotEquals(p, v) => (p.as_str(), "not_equals", text(v)),
                    Condition::Contains(p, t) => (p.as_str(), "contains", t.clone()),
                    Condition::Exists(p, true) => (p.as_str(), "exists", String::new()),
                    Condition::Exists(p, false) => (p.as_str(), "not_exists", String::new()),
                    Condition::Status(codes) => (
                        "",
                        "status",
                        codes
                            .iter()
                            .map(u16::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                    Condition::BodyContains(t) => ("", "body_contains", t.clone()),
                };
                RuleRow {
                    path: path.to_string(),
                    condition: condition.to_string(),
                    value,
                    then: rule.then.as_str().to_string(),
                }
            })
            .collect();
        rows.extend(vec![RuleRow::blank(); SPARE_RULES]);
        let path = |p: &Option<leadrouter_core::reply::JsonPath>| {
            p.as_ref()
                .map(|p| p.as_str().to_string())
                .unwrap_or_default()
        };
        ReplyForm {
            rules: rows,
            partner_lead_id: path(&r.partner_lead_id),
            redirect_url: path(&r.redirect_url),
            reason: path(&r.reason),
        }
    }

    /// Reads the posted rows (blank ones dropped, then blank ones offered again).
    pub fn read(f: &Fields) -> ReplyForm {
        let (paths, conditions, values, thens) = (
            f.all("rule_path"),
            f.all("rule_condition"),
            f.all("rule_value"),
            f.all("rule_then"),
        );
        let at = |list: &[&str], i: usize| list.get(i).map_or("", |s| s.trim()).to_string();
        let mut rules: Vec<RuleRow> = (0..paths.len().max(values.len()))
            .map(|i| RuleRow {
                path: at(&paths, i),
                condition: at(&conditions, i),
                value: at(&values, i),
                then: at(&thens, i),
            })
            .filter(|r| !r.is_blank())
            .collect();
        rules.extend(vec![RuleRow::blank(); SPARE_RULES]);
        ReplyForm {
            rules,
            partner_lead_id: f.text("response_partner_lead_id"),
            redirect_url: f.text("response_redirect_url"),
            reason: f.text("response_reason"),
        }
    }

    /// The `response` setting for the API: none when nothing is set (an edit then clears
    /// it). Rule `i` here is `response.rules[i]` in the API's messages.
    pub fn to_input(&self, editing: bool) -> Option<Value> {
        let rules: Vec<Value> = self
            .rules
            .iter()
            .filter(|r| !r.is_blank())
            .map(RuleRow::to_json)
            .collect();
        let mut setting = Map::new();
        for (name, path) in [
            ("partner_lead_id", &self.partner_lead_id),
            ("redirect_url", &self.redirect_url),
            ("reason", &self.reason),
        ] {
            if !path.is_empty() {
                setting.insert(name.into(), json!(path));
            }
        }
        if rules.is_empty() && setting.is_empty() {
            return editing.then_some(Value::Null);
        }
        setting.insert("rules".into(), Value::Array(rules));
        Some(Value::Object(setting))
    }
}
