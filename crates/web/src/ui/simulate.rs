//! "Simulate": a lead typed as a source would send it, and a moment (now by default) →
//! where the router would send it and every partner's reason, as the lead page shows
//! them. Posted (a lead's e-mail and phone stay out of URLs and logs); nothing is written.

use super::form::{Fields, Posted};
use super::page::{render, render_status, Chrome};
use crate::operator::Operator;
use crate::simulation::{moment, simulate, SimulationView};
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::TimeZone;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/admin/simulate", get(page).post(run))
}

/// The standard fields of the form, as a source names them.
const FIELDS: [&str; 7] = [
    "country",
    "niche",
    "type",
    "first_name",
    "last_name",
    "email",
    "phone",
];

/// Rows offered for custom fields (`amount_lost`, `fraud_type`).
const CUSTOM_ROWS: usize = 4;

/// The form as typed.
#[derive(Default)]
struct LeadForm {
    values: BTreeMap<&'static str, String>,
    custom: Vec<(String, String)>,
    source_id: String,
    at: String,
}

impl LeadForm {
    fn read(f: &Fields) -> LeadForm {
        let mut custom: Vec<(String, String)> = f
            .all("custom_key")
            .iter()
            .zip(f.all("custom_value").iter().chain(std::iter::repeat(&"")))
            .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
            .filter(|(k, v)| !k.is_empty() || !v.is_empty())
            .collect();
        custom.resize(custom.len().max(CUSTOM_ROWS), Default::default());
        LeadForm {
            values: FIELDS.iter().map(|k| (*k, f.text(k))).collect(),
            custom,
            source_id: f.text("source_id"),
            at: f.text("at"),
        }
    }

    fn value(&self, k: &str) -> &str {
        self.values.get(k).map_or("", String::as_str)
    }

    /// The lead as a source would send it.
    fn lead(&self) -> Map<String, Value> {
        let mut lead: Map<String, Value> = self
            .values
            .iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(k, v)| (k.to_string(), Value::String(v.trim().to_string())))
            .collect();
        for (k, v) in &self.custom {
            if !k.is_empty() {
                lead.insert(k.clone(), Value::String(v.clone()));
            }
        }
        lead
    }
}

#[derive(askama::Template)]
#[template(path = "simulate.html")]
struct SimulatePage {
    chrome: Chrome,
    form: LeadForm,
    markets: Vec<(String, String)>,
    niches: Vec<(String, String)>,
    sources: Vec<(i64, String)>,
    errors: BTreeMap<String, String>,
    answer: Option<SimulationView>,
    /// The chosen partner's name, and the moment and hold in the operator's time.
    partner: String,
    at: String,
    held_until: String,
}

impl SimulatePage {
    fn error(&self, k: &str) -> String {
        self.errors
            .get(k)
            .or_else(|| self.errors.get(&format!("lead.{k}")))
            .cloned()
            .unwrap_or_default()
    }

    fn value(&self, k: &str) -> &str {
        self.form.value(k)
    }

    /// Errors of the custom fields (any `lead.` key the form has no input of).
    fn other_errors(&self) -> Vec<String> {
        self.errors
            .iter()
            .filter(|(k, _)| {
                let k = k.trim_start_matches("lead.");
                !FIELDS.contains(&k) && k != "at" && k != "source_id" && k != "name"
            })
            .map(|(k, v)| format!("{}: {v}", k.trim_start_matches("lead.")))
            .collect()
    }
}

async fn view(
    state: &AppState,
    op: &Operator,
    form: LeadForm,
    errors: BTreeMap<String, String>,
    answer: Option<SimulationView>,
) -> Result<SimulatePage, PageError> {
    let catalog = state.catalog().await?;
    let sources = state
        .store()
        .list_sources(200, None)
        .await?
        .into_iter()
        .map(|s| (s.id, s.spec.name))
        .collect();
    let partner = match answer.as_ref().and_then(|a| a.partner_id) {
        Some(id) => state
            .store()
            .partner_names(&[id])
            .await?
            .remove(&id)
            .unwrap_or_else(|| format!("partner #{id}")),
        None => String::new(),
    };
    let local = |s: &Option<String>| {
        s.as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| time::local(t.timestamp_millis(), &op.timezone))
            .unwrap_or_default()
    };
    let (markets, niches) = super::catalog::options(&catalog);
    Ok(SimulatePage {
        chrome: Chrome::new(op, "simulate", "Simulate"),
        markets,
        niches,
        sources,
        at: local(&answer.as_ref().map(|a| a.at.clone())),
        held_until: local(&answer.as_ref().and_then(|a| a.held_until.clone())),
        partner,
        form,
        errors,
        answer,
    })
}

async fn page(State(state): State<AppState>, op: Operator) -> Result<Response, PageError> {
    let form = LeadForm {
        custom: vec![Default::default(); CUSTOM_ROWS],
        ..LeadForm::default()
    };
    Ok(render(
        &view(&state, &op, form, BTreeMap::new(), None).await?,
    ))
}

/// The moment typed: RFC 3339, or `YYYY-MM-DD HH:MM` in the operator's own timezone; now
/// when empty.
fn typed_moment(state: &AppState, op: &Operator, at: &str) -> Result<i64, ApiError> {
    let at = at.trim();
    if at.is_empty() || chrono::DateTime::parse_from_rfc3339(at).is_ok() {
        return moment(state, Some(at));
    }
    let tz: chrono_tz::Tz = op.timezone.parse().unwrap_or(chrono_tz::UTC);
    ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(at, f).ok())
        .and_then(|t| tz.from_local_datetime(&t).earliest())
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| {
            ApiError::validation_one(
                "at",
                format!(
                    "must be a moment such as 2026-12-07 14:00 ({})",
                    op.timezone
                ),
            )
        })
}

async fn run(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let form = LeadForm::read(&fields);
    let source_id = form.source_id.trim().parse::<i64>().ok();
    let outcome = match typed_moment(&state, &op, &form.at) {
        Ok(at) => simulate(&state, &form.lead(), source_id, at).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(answer) => Ok(render(
            &view(&state, &op, form, BTreeMap::new(), Some(answer)).await?,
        )),
        Err(ApiError::Validation(errors)) => Ok(render_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            &view(&state, &op, form, errors, None).await?,
        )),
        Err(e) => Err(e.into()),
    }
}
