//! Reading what an operator sent (a partner's or a source's settings) the same way every
//! time: keys normalized, read-only keys (from our own answers) ignored, unknown keys
//! refused, two spellings of one key refused, control characters refused, and every
//! problem collected so that all of them are reported at once.

use crate::text::control_problem_in;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// What the input says of one field.
#[derive(Debug, Clone, Copy)]
pub enum Given<'a> {
    /// Not mentioned: keep the current value (or use the default, for a new thing).
    Absent,
    /// `null`: clear it (or use the default).
    Null,
    Value(&'a Value),
}

/// How the keys of one kind of input are spelled.
pub struct Keys<'k> {
    /// `Daily Limit`, `dailyLimit` → `daily_limit`, plus the kind's synonyms.
    pub normalize: fn(&str) -> String,
    pub known: &'k [&'k str],
    /// Fields of our own answers, accepted (so that a fetched thing can be sent back) and
    /// ignored.
    pub read_only: &'k [&'k str],
}

/// One input object, read field by field.
pub struct Input<'a> {
    fields: BTreeMap<String, &'a Value>,
    errors: BTreeMap<String, String>,
    /// Values refused outright; reported last, so that a later "is required" does not
    /// hide them.
    unreadable: BTreeMap<String, String>,
}

impl<'a> Input<'a> {
    pub fn read(input: &'a Map<String, Value>, keys: &Keys<'_>) -> Self {
        let mut me = Input {
            fields: BTreeMap::new(),
            errors: BTreeMap::new(),
            unreadable: BTreeMap::new(),
        };
        let mut given_as: BTreeMap<String, &String> = BTreeMap::new();
        for (key, value) in input {
            let k = (keys.normalize)(key);
            if keys.read_only.contains(&k.as_str()) {
                continue;
            }
            if !keys.known.contains(&k.as_str()) {
                me.errors.insert(key.clone(), "unknown field".into());
                continue;
            }
            if let Some(problem) = control_problem_in(value, true) {
                me.unreadable.insert(key.clone(), problem);
                continue;
            }
            // Which of two spellings is meant cannot be guessed, so neither is taken.
            if let Some(first) = given_as.get(&k) {
                let msg = format!("\"{first}\" and \"{key}\" both set {k}: send one of them");
                me.errors.insert(key.clone(), msg.clone());
                me.errors.insert((*first).clone(), msg);
                continue;
            }
            given_as.insert(k.clone(), key);
            me.fields.insert(k, value);
        }
        // A field given twice is not taken at all.
        for (k, key) in &given_as {
            if me.errors.contains_key(*key) {
                me.fields.remove(k);
            }
        }
        me
    }

    pub fn given(&self, k: &str) -> Given<'a> {
        match self.fields.get(k) {
            None => Given::Absent,
            Some(Value::Null) => Given::Null,
            Some(v) => Given::Value(v),
        }
    }

    /// The raw value of `k`, `null` included.
    pub fn raw(&self, k: &str) -> Option<&'a Value> {
        self.fields.get(k).copied()
    }

    pub fn error(&mut self, k: &str, msg: impl Into<String>) {
        self.errors.insert(k.to_string(), msg.into());
    }

    /// `parse`s the value of `k` when it is given (`null` included), else `otherwise`.
    /// A parse error is recorded under `k`.
    pub fn take<T>(
        &mut self,
        k: &str,
        parse: impl FnOnce(&'a Value) -> Result<T, String>,
        otherwise: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<T> {
        match self.raw(k) {
            Some(v) => match parse(v) {
                Ok(t) => Some(t),
                Err(e) => {
                    self.error(k, e);
                    None
                }
            },
            None => otherwise(self),
        }
    }

    /// Records "is required" for `k` and gives nothing: for `otherwise` of a required field.
    pub fn required<T>(&mut self, k: &str) -> Option<T> {
        self.error(k, "is required");
        None
    }

    /// The result: `value` if every field was read without a problem, else every problem.
    pub fn finish<T>(mut self, value: Option<T>) -> Result<T, BTreeMap<String, String>> {
        self.errors.append(&mut self.unreadable);
        match value {
            Some(v) if self.errors.is_empty() => Ok(v),
            _ => Err(self.errors),
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn keys() -> Keys<'static> {
        Keys {
            normalize: |k| k.trim().to_ascii_lowercase().replace(' ', "_"),
            known: &["name", "daily_limit"],
            read_only: &["id"],
        }
    }

    #[test]
    fn every_problem_is_collected_and_none_hides_another() {
        let input = json!({"Name": "a\u{0}b", "id": 7, "colour": "red",
            "daily_limit": 5, "Daily Limit": 6});
        let mut f = Input::read(input.as_object().unwrap(), &keys());
        assert!(
            matches!(f.given("daily_limit"), Given::Absent),
            "taken from neither"
        );
        let name: Option<String> = f.take("name", |_| Ok("x".into()), |f| f.required("name"));
        assert_eq!(name, None);
        let errors = f.finish(Some(())).unwrap_err();
        assert_eq!(errors["colour"], "unknown field");
        assert!(errors["Name"].contains("U+0000"), "{errors:?}");
        assert_eq!(errors["name"], "is required");
        assert!(errors["daily_limit"].contains("send one of them"));
        assert!(errors["Daily Limit"].contains("send one of them"));
        assert!(!errors.contains_key("id"));
    }

    #[test]
    fn absent_null_and_values_are_told_apart() {
        let input = json!({"name": null, "daily_limit": 3});
        let f = Input::read(input.as_object().unwrap(), &keys());
        assert!(matches!(f.given("name"), Given::Null));
        assert!(matches!(f.given("daily_limit"), Given::Value(v) if *v == json!(3)));
        assert_eq!(f.finish(Some(1)).unwrap(), 1);
    }
}
