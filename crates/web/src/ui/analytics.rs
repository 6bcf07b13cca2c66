//! The Analytics page: the grouped figures of the API as charts drawn on the server (SVG,
//! no script), each with the table of its figures under it (leads, partner response time,
//! conversions and revenue), for a period, a grouping and whose days.

use super::page::{render, Chrome};
use crate::operator::Operator;
use crate::report::grouped;
use crate::ui::PageError;
use crate::views::Report;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/admin/analytics", get(page))
}

#[derive(Deserialize, Default)]
struct Controls {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    group_by: String,
    #[serde(default)]
    day: String,
}

/// One group: its label and the report's row.
pub(crate) struct Row {
    pub label: String,
    pub figures: Value,
}

/// One chart (two figures side by side per group) and the table of its figures under it.
pub(crate) struct Section {
    pub title: &'static str,
    /// The two charted figures' names and CSS classes.
    pub legend: [(&'static str, &'static str); 2],
    /// The chart, as SVG drawn on the server.
    pub svg: String,
    /// Every charted value is zero (the chart would be blank).
    pub blank: bool,
    /// What is said instead of a blank chart.
    pub empty: &'static str,
    pub head: Vec<&'static str>,
    pub rows: Vec<(String, Vec<String>)>,
    pub totals: Vec<String>,
}

/// A section: its title, the charted figures (report field, name, CSS class), and the
/// table's columns (report field, heading).
struct Layout {
    title: &'static str,
    charted: [(&'static str, &'static str, &'static str); 2],
    empty: &'static str,
    columns: &'static [(&'static str, &'static str)],
}

const SECTIONS: [Layout; 3] = [
    Layout {
        title: "Leads",
        charted: [
            ("received", "received", "received"),
            ("delivered", "delivered", "delivered"),
        ],
        empty: "No leads in this period.",
        columns: &[
            ("received", "Received"),
            ("delivered", "Delivered"),
            ("rejected", "Rejected"),
            ("duplicates", "Duplicates"),
            ("failed", "Failed"),
            ("returned", "Returned"),
            ("success_rate", "Success %"),
        ],
    },
    Layout {
        title: "Partner response time",
        charted: [
            ("latency_p50_ms", "p50", "p50"),
            ("latency_p95_ms", "p95", "p95"),
        ],
        empty: "No deliveries attempted in this period.",
        columns: &[("latency_p50_ms", "p50 ms"), ("latency_p95_ms", "p95 ms")],
    },
    Layout {
        title: "Conversions and revenue",
        charted: [
            ("revenue", "conversions' value", "revenue"),
            ("lead_revenue", "paid for leads", "lead-revenue"),
        ],
        empty: "No conversions reported and no lead paid for in this period (a partner's price per lead is one of its settings).",
        columns: &[
            ("conversions", "Converted"),
            ("conversion_rate", "Conversion %"),
            ("revenue_text", "Revenue"),
            ("lead_revenue_text", "Paid for leads"),
            ("cost_text", "Cost"),
            ("profit_text", "Profit"),
        ],
    },
];

#[derive(askama::Template)]
#[template(path = "analytics.html")]
struct Page {
    chrome: Chrome,
    c: Controls,
    sections: Vec<Section>,
    error: Option<String>,
    currency: String,
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

/// A figure as a person reads it: money with its currency, a percentage with one
/// decimal, a response time in ms, a count as a whole number.
fn shown(key: &str, v: &Value, currency: &str) -> String {
    if v.is_null() {
        return "—".into();
    }
    match key {
        "revenue_text" | "lead_revenue_text" | "cost_text" | "profit_text" => {
            format!("{} {currency}", cell(v))
        }
        "success_rate" | "conversion_rate" => {
            format!("{:.1} %", v.as_f64().unwrap_or_default())
        }
        _ => cell(v),
    }
}

/// The chart of the figures `a` and `b` of each row (class names give their colours).
fn chart(rows: &[&Row], by_day: bool, charted: &[(&str, &str, &str); 2], currency: &str) -> String {
    let values = |k: &str| -> Vec<f64> {
        rows.iter()
            .map(|r| r.figures[k].as_f64().unwrap_or(0.0))
            .collect()
    };
    let (va, vb) = (values(charted[0].0), values(charted[1].0));
    // Days as MM-DD; names whole.
    let labels: Vec<String> = rows
        .iter()
        .map(|r| {
            if is_date(&r.label) {
                r.label[5..].to_string()
            } else {
                r.label.clone()
            }
        })
        .collect();
    let money = charted[0].0 == "revenue";
    let ms = charted[0].0.starts_with("latency");
    let value = move |v: f64| {
        if money {
            format!("{v:.0} {currency}")
        } else if ms {
            format!("{v:.0} ms")
        } else {
            format!("{v:.0}")
        }
    };
    super::chart::draw(
        if by_day {
            super::chart::Layout::Columns
        } else {
            super::chart::Layout::Rows
        },
        &labels,
        &super::chart::Series {
            colour: super::chart::colour(charted[0].2),
            values: &va,
        },
        &super::chart::Series {
            colour: super::chart::colour(charted[1].2),
            values: &vb,
        },
        &value,
    )
}

/// The report's rows (a partner by its name), in the order the chart shows them.
fn rows_of(report: &Report, names: &HashMap<String, String>) -> Vec<Row> {
    report
        .rows
        .iter()
        .map(|r| Row {
            label: match names.get(&r.key) {
                Some(name) if report.group_by == "partner" => name.clone(),
                _ => r.key.clone(),
            },
            figures: json!(r.figures),
        })
        .collect()
}

/// Each section's chart and table. Groups whose figures of a section are all zero are
/// left out of it (days stay in the chart, so that the time reads evenly, but not in the
/// table); tables read newest first when they list days.
fn sections(rows: &[Row], totals: &Value, by_day: bool, currency: &str) -> Vec<Section> {
    SECTIONS
        .iter()
        .map(|l| {
            let keys: Vec<&str> = l
                .charted
                .iter()
                .map(|c| c.0)
                .chain(l.columns.iter().map(|c| c.0.trim_end_matches("_text")))
                .collect();
            let quiet = |r: &Row| {
                keys.iter()
                    .all(|k| r.figures[*k].as_f64().unwrap_or(0.0) == 0.0)
            };
            let charted: Vec<&Row> = rows.iter().filter(|r| by_day || !quiet(r)).collect();
            let mut table: Vec<(String, Vec<String>)> = rows
                .iter()
                .filter(|r| !quiet(r))
                .map(|r| {
                    (
                        r.label.clone(),
                        l.columns
                            .iter()
                            .map(|(k, _)| shown(k, &r.figures[*k], currency))
                            .collect(),
                    )
                })
                .collect();
            if by_day {
                table.reverse();
            }
            let blank = rows.iter().all(|r| {
                l.charted
                    .iter()
                    .all(|(k, _, _)| r.figures[*k].as_f64().unwrap_or(0.0) == 0.0)
            });
            Section {
                title: l.title,
                empty: l.empty,
                legend: [
                    (l.charted[0].1, l.charted[0].2),
                    (l.charted[1].1, l.charted[1].2),
                ],
                svg: if blank {
                    String::new()
                } else {
                    chart(&charted, by_day, &l.charted, currency)
                },
                blank,
                head: l.columns.iter().map(|(_, h)| *h).collect(),
                rows: table,
                totals: l
                    .columns
                    .iter()
                    .map(|(k, _)| shown(k, &totals[*k], currency))
                    .collect(),
            }
        })
        .collect()
}

async fn page(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(mut c): crate::extract::QueryOf<Controls>,
) -> Result<Response, PageError> {
    if c.group_by.is_empty() {
        c.group_by = "day".into();
    }
    if c.day.is_empty() {
        c.day = "operator".into();
    }
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
    let (from, to) = (some(&c.from), some(&c.to));
    let names: HashMap<String, String> = state
        .store()
        .list_partners(1000, None)
        .await?
        .into_iter()
        .map(|p| (p.id.to_string(), p.spec.name))
        .collect();
    let report = grouped(
        &state,
        from.as_deref(),
        to.as_deref(),
        &c.group_by,
        &c.day,
        &op.timezone,
    )
    .await;
    let (sections, error) = match report {
        Ok(report) => {
            // The period in use, written into the form (its default too).
            c.from = report.from.clone();
            c.to = report.to.clone();
            let rows = rows_of(&report, &names);
            let sections = if rows.is_empty() {
                Vec::new()
            } else {
                sections(
                    &rows,
                    &json!(report.totals),
                    c.group_by == "day",
                    &state.settings().currency,
                )
            };
            (sections, None)
        }
        Err(ApiError::Validation(e)) => (
            vec![],
            Some(
                e.into_iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(render(&Page {
        chrome: Chrome::new(&op, "analytics", "Analytics"),
        currency: state.settings().currency.clone(),
        c,
        sections,
        error,
    }))
}
