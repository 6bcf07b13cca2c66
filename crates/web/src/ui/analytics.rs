//! The Analytics page: the grouped figures of the API as charts drawn on the server (SVG,
//! no script), each with the table of its figures under it (leads, partner response time,
//! conversions and revenue), for a period, a grouping and whose days.

use super::page::{render, Chrome};
use super::session::Operator;
use crate::admin::report::grouped;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde::Deserialize;
use serde_json::Value;
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

/// A pair of bars per group, scaled to the chart's height.
pub(crate) struct Bar {
    pub x: i64,
    pub b_x: i64,
    pub w: i64,
    pub a_y: i64,
    pub a_h: i64,
    pub b_y: i64,
    pub b_h: i64,
    pub label: String,
    pub label_x: i64,
    pub title: String,
}

/// One chart (two figures side by side per group) and the table of its figures under it.
pub(crate) struct Section {
    pub title: &'static str,
    /// The two charted figures' names and CSS classes.
    pub legend: [(&'static str, &'static str); 2],
    pub bars: Vec<Bar>,
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
        ],
    },
];

#[derive(askama::Template)]
#[template(path = "analytics.html")]
struct Page {
    chrome: Chrome,
    c: Controls,
    sections: Vec<Section>,
    width: i64,
    error: Option<String>,
}

const HEIGHT: i64 = 180;
/// The chart's width: the page's, whatever the number of groups.
const WIDTH: i64 = 1150;

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

/// The chart's bars for the figures `a` and `b` of each row.
fn bars(rows: &[Row], a: &str, b: &str) -> Vec<Bar> {
    let value = |r: &Row, k: &str| r.figures[k].as_f64().unwrap_or(0.0);
    let top = rows
        .iter()
        .map(|r| value(r, a).max(value(r, b)))
        .fold(0.0, f64::max)
        .max(1.0);
    let slot = ((WIDTH - 16) / (rows.len() as i64).max(1)).clamp(10, 56);
    let w = (slot * 2 / 5).max(3);
    // Labels where there is room: every one on a wide slot, every few on a narrow one.
    let every = (40 + slot - 1) / slot;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let h = |v: f64| (v * HEIGHT as f64 / top).round() as i64;
            let (va, vb) = (value(r, a), value(r, b));
            let x = i as i64 * slot + 8;
            Bar {
                x,
                b_x: x + w + 1,
                w,
                a_y: HEIGHT - h(va),
                a_h: h(va),
                b_y: HEIGHT - h(vb),
                b_h: h(vb),
                // Dates as MM-DD; other names cut to fit under their bars.
                label: match (i as i64 % every == 0, is_date(&r.label)) {
                    (false, _) => String::new(),
                    (true, true) => r.label[5..].to_string(),
                    (true, false) => r.label.chars().take(8).collect(),
                },
                label_x: x + w,
                title: format!(
                    "{}: {} {a}, {} {b}",
                    r.label,
                    cell(&r.figures[a]),
                    cell(&r.figures[b])
                ),
            }
        })
        .collect()
}

/// The report's rows (a partner by its name), in the order the chart shows them.
fn rows_of(v: &Value, group_by: &str, names: &HashMap<String, String>) -> Vec<Row> {
    v["rows"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    let key = r["key"].as_str().unwrap_or_default().to_string();
                    Row {
                        label: if group_by == "partner" {
                            names.get(&key).cloned().unwrap_or(key)
                        } else {
                            key
                        },
                        figures: r.clone(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Each section's chart and table; tables read newest first when they list days.
fn sections(rows: &[Row], totals: &Value, by_day: bool) -> Vec<Section> {
    SECTIONS
        .iter()
        .map(|l| {
            let mut table: Vec<(String, Vec<String>)> = rows
                .iter()
                .map(|r| {
                    (
                        r.label.clone(),
                        l.columns
                            .iter()
                            .map(|(k, _)| cell(&r.figures[*k]))
                            .collect(),
                    )
                })
                .collect();
            if by_day {
                table.reverse();
            }
            Section {
                title: l.title,
                empty: l.empty,
                legend: [
                    (l.charted[0].1, l.charted[0].2),
                    (l.charted[1].1, l.charted[1].2),
                ],
                bars: bars(rows, l.charted[0].0, l.charted[1].0),
                blank: rows.iter().all(|r| {
                    l.charted
                        .iter()
                        .all(|(k, _, _)| r.figures[*k].as_f64().unwrap_or(0.0) == 0.0)
                }),
                head: l.columns.iter().map(|(_, h)| *h).collect(),
                rows: table,
                totals: l.columns.iter().map(|(k, _)| cell(&totals[*k])).collect(),
            }
        })
        .collect()
}

async fn page(
    State(state): State<AppState>,
    op: Operator,
    Query(mut c): Query<Controls>,
) -> Result<Response, ApiError> {
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
        Ok(v) => {
            let rows = rows_of(&v, &c.group_by, &names);
            let sections = if rows.is_empty() {
                Vec::new()
            } else {
                sections(&rows, &v["totals"], c.group_by == "day")
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
        Err(e) => return Err(e),
    };
    Ok(render(&Page {
        chrome: Chrome::new(&op, "analytics", "Analytics"),
        width: WIDTH,
        c,
        sections,
        error,
    }))
}
