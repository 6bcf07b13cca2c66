//! Leads in the console: the explorer (search, filters, paging, CSV of the filtered set,
//! streamed), a lead's page (the lead, why it went where it went, every attempt, its
//! conversions and history) with Retry and Assign.

use super::page::{render, Chrome};
use crate::leads::{lead_filter, ListQuery};
use crate::operator::Operator;
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use leadrouter_core::lead::full_name;
use leadrouter_store::leads::{LeadFilter, LeadRecord};
use serde::Deserialize;
use std::collections::HashMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/leads", get(list))
        .route("/admin/leads.csv", get(csv_export))
        .route("/admin/leads/{id}", get(super::lead_page::show))
        .route("/admin/leads/{id}/retry", post(super::lead_page::retry))
        .route("/admin/leads/{id}/assign", post(super::lead_page::assign))
        .route("/admin/leads/{id}/erase", post(super::lead_page::erase))
        .route(
            "/admin/leads/{id}/evidence.json",
            get(super::lead_page::evidence),
        )
}

/// The explorer's query: the API's filters plus dates (in the operator's timezone).
#[derive(Deserialize, Default, Clone)]
pub(crate) struct Filters {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    country: String,
    #[serde(default)]
    niche: String,
    #[serde(default)]
    partner_id: String,
    #[serde(default)]
    source_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Held leads of one reason (the Overview's held backlog links here).
    #[serde(default)]
    held_reason: String,
    before: Option<i64>,
}

impl Filters {
    fn some(s: &str) -> Option<String> {
        let t = s.trim();
        (!t.is_empty()).then(|| t.to_string())
    }

    async fn to_filter(
        &self,
        state: &AppState,
        tz: &str,
        limit: i64,
    ) -> Result<LeadFilter, ApiError> {
        let mut f = lead_filter(
            state,
            ListQuery {
                status: Self::some(&self.status),
                country: Self::some(&self.country),
                niche: Self::some(&self.niche),
                partner_id: Self::some(&self.partner_id),
                source_id: Self::some(&self.source_id),
                q: Self::some(&self.q),
            },
            limit,
            self.before,
        )
        .await?;
        let date = |name: &str, v: &str| -> Result<Option<i64>, ApiError> {
            match Self::some(v) {
                None => Ok(None),
                Some(d) => time::date_start(&d, tz)
                    .map(Some)
                    .ok_or_else(|| ApiError::validation_one(name, "must be a date, YYYY-MM-DD")),
            }
        };
        f.held_reason = Self::some(&self.held_reason);
        f.from = date("from", &self.from)?;
        // "to" includes that whole day.
        f.until = date("to", &self.to)?.map(|t| t + 86_400_000);
        Ok(f)
    }

    /// The query string of these filters (for paging and the CSV link), without `before`.
    pub fn query(&self) -> String {
        let pairs = [
            ("q", &self.q),
            ("status", &self.status),
            ("country", &self.country),
            ("niche", &self.niche),
            ("partner_id", &self.partner_id),
            ("source_id", &self.source_id),
            ("from", &self.from),
            ("to", &self.to),
            ("held_reason", &self.held_reason),
        ];
        serde_urlencoded::to_string(
            pairs
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default()
    }
}

pub(crate) struct LeadRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub country: String,
    pub niche: String,
    pub lead_type: String,
    pub status: String,
    pub partner: String,
    pub partner_id: Option<i64>,
    pub received: String,
    pub erased: bool,
}

#[derive(askama::Template)]
#[template(path = "leads.html")]
struct ListPage {
    chrome: Chrome,
    filters: Filters,
    rows: Vec<LeadRow>,
    next_before: Option<i64>,
    error: Option<String>,
    partners: Vec<(i64, String)>,
    sources: Vec<(i64, String)>,
    statuses: Vec<&'static str>,
    /// The catalog's markets and niches: (slug, name).
    countries: Vec<(String, String)>,
    niches: Vec<(String, String)>,
}

const PAGE: i64 = 50;

pub(super) async fn partner_names(state: &AppState) -> Result<HashMap<i64, String>, PageError> {
    Ok(state
        .store()
        .list_partners(1000, None)
        .await?
        .into_iter()
        .map(|p| (p.id, p.spec.name))
        .collect())
}

fn row(l: &LeadRecord, names: &HashMap<i64, String>, tz: &str) -> LeadRow {
    LeadRow {
        id: l.id,
        name: full_name(l.first_name.as_deref(), l.last_name.as_deref()).unwrap_or_default(),
        email: l.email.clone().unwrap_or_default(),
        phone: l.phone.clone().unwrap_or_default(),
        country: l.country.clone(),
        niche: l.niche.clone(),
        lead_type: l.lead_type.as_str().to_string(),
        status: l.status.as_str().to_string(),
        partner: l
            .partner_id
            .and_then(|p| names.get(&p).cloned())
            .unwrap_or_default(),
        partner_id: l.partner_id,
        received: time::local(l.received_at, tz),
        erased: l.erased_at.is_some(),
    }
}

async fn list(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(filters): crate::extract::QueryOf<Filters>,
) -> Result<Response, PageError> {
    let names = partner_names(&state).await?;
    let mut partners: Vec<(i64, String)> = names.iter().map(|(k, v)| (*k, v.clone())).collect();
    partners.sort_by(|a, b| a.1.cmp(&b.1));
    let (rows, next_before, error) = match filters.to_filter(&state, &op.timezone, PAGE).await {
        Ok(f) => {
            let leads = state.store().list_leads(&f).await?;
            let next = (leads.len() as i64 == PAGE)
                .then(|| leads.last().map(|l| l.id))
                .flatten();
            (
                leads.iter().map(|l| row(l, &names, &op.timezone)).collect(),
                next,
                None,
            )
        }
        Err(ApiError::Validation(e)) => (
            vec![],
            None,
            Some(
                e.iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    let sources = state
        .store()
        .list_sources(500, None)
        .await?
        .into_iter()
        .map(|s| (s.id, s.spec.name))
        .collect();
    let (countries, niches) = super::catalog::options(&*state.catalog().await?);
    Ok(render(&ListPage {
        countries,
        niches,
        chrome: Chrome::new(&op, "leads", "Leads"),
        filters,
        rows,
        next_before,
        error,
        partners,
        sources,
        statuses: leadrouter_core::status::LeadStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .collect(),
    }))
}

/// The filtered leads as CSV, written page by page as the client reads: the whole set is
/// never held in memory.
async fn csv_export(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(filters): crate::extract::QueryOf<Filters>,
) -> Result<Response, PageError> {
    const CHUNK: i64 = 1000;
    let first = filters.to_filter(&state, &op.timezone, CHUNK).await?;
    let names = partner_names(&state).await?;
    let tz = op.timezone.clone();
    let header = "id,received_at,status,first_name,last_name,email,phone,country,niche,lead_type,source,partner\n";
    let stream = futures::stream::unfold((Some(first), true), move |(filter, head)| {
        let state = state.clone();
        let names = names.clone();
        let tz = tz.clone();
        async move {
            if head {
                return Some((Ok::<_, std::io::Error>(header.to_string()), (filter, false)));
            }
            let mut f = filter?;
            let leads = match state.store().list_leads(&f).await {
                Ok(l) => l,
                Err(e) => {
                    tracing::warn!(error = %e, "CSV export stopped");
                    return Some((Err(std::io::Error::other("export failed")), (None, false)));
                }
            };
            if leads.is_empty() {
                return None;
            }
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(vec![]);
            for l in &leads {
                let cells = [
                    l.id.to_string(),
                    time::local(l.received_at, &tz),
                    l.status.as_str().to_string(),
                    l.first_name.clone().unwrap_or_default(),
                    l.last_name.clone().unwrap_or_default(),
                    l.email.clone().unwrap_or_default(),
                    l.phone.clone().unwrap_or_default(),
                    l.country.clone(),
                    l.niche.clone(),
                    l.lead_type.as_str().to_string(),
                    l.source_label.clone().unwrap_or_default(),
                    l.partner_id
                        .and_then(|p| names.get(&p).cloned())
                        .unwrap_or_default(),
                ];
                let _ = w.write_record(
                    cells
                        .iter()
                        .map(|c| leadrouter_core::text::spreadsheet_cell(c).into_owned()),
                );
            }
            let chunk = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
            let more = leads.len() as i64 == f.limit;
            f.before = leads.last().map(|l| l.id);
            Some((Ok(chunk), (more.then_some(f), false)))
        }
    });
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"leads.csv\""),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
