//! The Analytics page: the grouped figures of the API as a chart drawn on the server (SVG,
//! no script) and a table under it, for a period, a grouping and whose days.

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

/// One group: its label and figures as shown.
pub(crate) struct Row {
    pub label: String,
    pub cells: Vec<String>,
    pub received: i64,
    pub delivered: i64,
}

/// A pair of bars (received, delivered) per group, scaled to the chart's height.
pub(crate) struct Bar {
    pub x: i64,
    pub delivered_x: i64,
    pub w: i64,
    pub received_y: i64,
    pub received_h: i64,
    pub delivered_y: i64,
    pub delivered_h: i64,
    pub label: String,
    pub label_x: i64,
    pub title: String,
}

#[derive(askama::Template)]
#[template(path = "analytics.html")]
struct Page {
    chrome: Chrome,
    c: Controls,
    rows: Vec<Row>,
    totals: Vec<String>,
    bars: Vec<Bar>,
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

const COLUMNS: [&str; 10] = [
    "received",
    "delivered",
    "rejected",
    "failed",
    "returned",
    "conversions",
    "revenue_text",
    "success_rate",
    "latency_p50_ms",
    "latency_p95_ms",
];

fn is_date(s: &str) -> bool {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()
}

fn bars(rows: &[Row]) -> Vec<Bar> {
    let top = rows
        .iter()
        .map(|r| r.received.max(r.delivered))
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = ((WIDTH - 16) / (rows.len() as i64).max(1)).clamp(10, 56);
    let w = (slot * 2 / 5).max(3);
    // Labels where there is room: every one on a wide slot, every few on a narrow one.
    let every = (40 + slot - 1) / slot;
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let h = |v: i64| v * HEIGHT / top;
            let x = i as i64 * slot + 8;
            Bar {
                x,
                delivered_x: x + w + 1,
                w,
                received_y: HEIGHT - h(r.received),
                received_h: h(r.received),
                delivered_y: HEIGHT - h(r.delivered),
                delivered_h: h(r.delivered),
                // Dates as MM-DD; other names cut to fit under their bars.
                label: match (i as i64 % every == 0, is_date(&r.label)) {
                    (false, _) => String::new(),
                    (true, true) => r.label[5..].to_string(),
                    (true, false) => r.label.chars().take(8).collect(),
                },
                label_x: x + w,
                title: format!(
                    "{}: {} received, {} delivered",
                    r.label, r.received, r.delivered
                ),
            }
        })
        .collect()
}

/// The report's rows as shown (a partner by its name), and its totals.
fn rows_of(v: &Value, group_by: &str, names: &HashMap<String, String>) -> (Vec<Row>, Vec<String>) {
    let rows = v["rows"]
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
                        cells: COLUMNS.iter().map(|k| cell(&r[*k])).collect(),
                        received: r["received"].as_i64().unwrap_or(0),
                        delivered: r["delivered"].as_i64().unwrap_or(0),
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    let totals = COLUMNS.iter().map(|k| cell(&v["totals"][*k])).collect();
    (rows, totals)
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
    let (rows, totals, error) = match report {
        Ok(v) => {
            let (rows, totals) = rows_of(&v, &c.group_by, &names);
            (rows, totals, None)
        }
        Err(ApiError::Validation(e)) => (
            vec![],
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
    let bars = bars(&rows);
    // The table reads newest first when it lists days.
    let mut rows = rows;
    if c.group_by == "day" {
        rows.reverse();
    }
    Ok(render(&Page {
        chrome: Chrome::new(&op, "analytics", "Analytics"),
        width: WIDTH,
        c,
        rows,
        totals,
        bars,
        error,
    }))
}
