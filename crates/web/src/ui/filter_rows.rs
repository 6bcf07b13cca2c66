//! The "Filters" part of the Add/Edit Partner form: the partner's conditions on a lead as
//! rows of field / operator / value (no JavaScript needed: blank rows are always offered).

use super::form::Fields;
use leadrouter_core::filters::Filter;
use serde_json::{json, Value};

/// Blank rows offered for new filters.
const SPARE_FILTERS: usize = 2;

/// The operators offered, as the form names them.
pub(crate) const OPERATORS: [(&str, &str); 14] = [
    ("eq", "is"),
    ("ne", "is not"),
    ("in", "is one of"),
    ("not_in", "is none of"),
    ("gt", ">"),
    ("gte", "≥"),
    ("lt", "<"),
    ("lte", "≤"),
    ("contains", "contains"),
    ("not_contains", "does not contain"),
    ("starts_with", "starts with"),
    ("ends_with", "ends with"),
    ("exists", "is present"),
    ("not_exists", "is missing"),
];

/// One filter as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct FilterRow {
    pub field: String,
    pub op: String,
    pub value: String,
}

impl FilterRow {
    fn blank() -> FilterRow {
        FilterRow {
            op: "eq".into(),
            ..Default::default()
        }
    }

    /// The filter in the API's shape: a list for `in`/`not_in` (comma-separated), no value
    /// for the presence checks, the text otherwise (numbers are read from it).
    fn to_json(&self) -> Value {
        match self.op.as_str() {
            "exists" | "not_exists" => json!({"field": self.field, "op": self.op}),
            "in" | "not_in" => {
                let items: Vec<&str> = self
                    .value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect();
                json!({"field": self.field, "op": self.op, "value": items})
            }
            _ => json!({"field": self.field, "op": self.op, "value": self.value}),
        }
    }
}

/// The part of the form as typed.
#[derive(Debug, Clone, Default)]
pub(crate) struct FiltersForm {
    pub rows: Vec<FilterRow>,
}

impl FiltersForm {
    pub fn blank() -> FiltersForm {
        FiltersForm {
            rows: vec![FilterRow::blank(); SPARE_FILTERS],
        }
    }

    /// A partner's filters, as rows.
    pub fn of(filters: &[Filter]) -> FiltersForm {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Array(items) => items
                .iter()
                .map(|i| match i {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", "),
            other => other.to_string(),
        };
        let mut rows: Vec<FilterRow> = filters
            .iter()
            .map(|f| FilterRow {
                field: f.field.clone(),
                op: f.op.as_str().to_string(),
                value: f.value.as_ref().map(text).unwrap_or_default(),
            })
            .collect();
        rows.extend(vec![FilterRow::blank(); SPARE_FILTERS]);
        FiltersForm { rows }
    }

    /// Reads the posted rows (rows without a field dropped, then blank ones offered again).
    pub fn read(f: &Fields) -> FiltersForm {
        let (fields, ops, values) = (
            f.all("filter_field"),
            f.all("filter_op"),
            f.all("filter_value"),
        );
        let at = |list: &[&str], i: usize| list.get(i).map_or("", |s| s.trim()).to_string();
        let mut rows: Vec<FilterRow> = (0..fields.len())
            .map(|i| FilterRow {
                field: at(&fields, i),
                op: at(&ops, i),
                value: at(&values, i),
            })
            .filter(|r| !r.field.is_empty() || !r.value.is_empty())
            .collect();
        rows.extend(vec![FilterRow::blank(); SPARE_FILTERS]);
        FiltersForm { rows }
    }

    /// The `filters` setting for the API (filter `i` here is `filters[i]` in its messages).
    pub fn to_input(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .filter(|r| !r.field.is_empty() || !r.value.is_empty())
                .map(FilterRow::to_json)
                .collect(),
        )
    }
}
