//! Partners in the console: the list with today's counts and delivery health, Add Partner
//! (the guide's form), a partner's page, edit, pause / resume, test lead, rotations.

use super::flash::Flash;
use super::form::Posted;
use super::page::{render, render_status, Chrome};
use super::partner_form::PartnerForm;
use super::session::Operator;
use super::time;
use crate::admin::partners::{self as api, PartnerAnswer, TestAttempt};
use crate::extract::PathId;
use crate::views::PartnerView;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leadrouter_core::catalog::Catalog;
use leadrouter_engine::actions;
use leadrouter_store::console::PartnerHealth;
use leadrouter_store::deliveries::DeliveryRow;
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/partners", get(list).post(create))
        .route("/admin/partners/new", get(new))
        .route("/admin/partners/{id}", get(show).post(update))
        .route("/admin/partners/{id}/edit", get(edit))
        .route("/admin/partners/{id}/pause", post(pause))
        .route("/admin/partners/{id}/resume", post(resume))
        .route("/admin/partners/{id}/test", post(test))
        .route("/admin/partners/{id}/rotate-key", post(rotate_key))
        .route("/admin/partners/{id}/rotate-secret", post(rotate_secret))
}

/// One row of the partners list.
pub(crate) struct PartnerRow {
    pub p: PartnerView,
    pub h: PartnerHealth,
}

impl PartnerRow {
    pub fn count(&self) -> String {
        format!("{} / {}", self.p.today.total, self.p.daily_limit)
    }

    /// Today's premium share against the target, e.g. `64% (target 70%)`.
    pub fn mix(&self) -> String {
        let t = &self.p.today;
        if t.total == 0 {
            return format!("— (target {}%)", self.p.premium_ratio);
        }
        format!(
            "{}% (target {}%)",
            (t.premium * 100 + t.total / 2) / t.total,
            self.p.premium_ratio
        )
    }

    pub fn success(&self) -> String {
        if self.h.attempts == 0 {
            return "—".into();
        }
        format!(
            "{:.1}%",
            self.h.delivered as f64 * 100.0 / self.h.attempts as f64
        )
    }

    pub fn p95(&self) -> String {
        self.h
            .p95_ms
            .map_or_else(|| "—".into(), |ms| format!("{ms} ms"))
    }

    /// Share of the limit used today in tens of percent (0..=100), for the bar's class.
    pub fn used(&self) -> u32 {
        let limit = u64::from(self.p.daily_limit.max(1));
        let pct = (self.p.today.total.max(0) as u64 * 100 / limit).min(100) as u32;
        (pct + 5) / 10 * 10
    }

    pub fn full(&self) -> bool {
        self.p.today.total >= i64::from(self.p.daily_limit)
    }
}

/// Health figures come from each partner's latest 200 attempts of the last 24 hours.
pub(crate) const HEALTH_WINDOW_MS: i64 = 24 * 3_600_000;

#[derive(askama::Template)]
#[template(path = "partners.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<PartnerRow>,
}

async fn list(State(state): State<AppState>, op: Operator) -> Result<Response, ApiError> {
    let partners = state.store().list_partners(500, None).await?;
    let views = api::with_today(&state, &partners).await?;
    let health = state
        .store()
        .partner_health(
            &partners.iter().map(|p| p.id).collect::<Vec<_>>(),
            state.now_ms() - HEALTH_WINDOW_MS,
        )
        .await?;
    let rows = views
        .into_iter()
        .map(|p| PartnerRow {
            h: health.get(&p.id).copied().unwrap_or_default(),
            p,
        })
        .collect();
    Ok(render(&ListPage {
        chrome: Chrome::new(&op, "partners", "Partners"),
        rows,
    }))
}

#[derive(askama::Template)]
#[template(path = "partner_form.html")]
pub(crate) struct FormPage {
    chrome: Chrome,
    form: PartnerForm,
    errors: BTreeMap<String, String>,
    /// `None` for Add Partner.
    id: Option<i64>,
    markets: Vec<(String, String)>,
    niches: Vec<(String, String)>,
}

impl FormPage {
    pub fn error(&self, field: &str) -> String {
        self.errors.get(field).cloned().unwrap_or_default()
    }

    pub fn action(&self) -> String {
        self.id.map_or_else(
            || "/admin/partners".into(),
            |id| format!("/admin/partners/{id}"),
        )
    }

    /// The guide's phone formats as (value, label).
    pub fn phone_formats(&self) -> [(&'static str, &'static str); 3] {
        [
            ("international", "International (+1234567890)"),
            ("national", "National (491234567890)"),
            ("local", "Local (49-123-456-7890)"),
        ]
    }

    /// Field errors the form has no place for, so that none goes unseen.
    pub fn other_errors(&self) -> Vec<(String, String)> {
        const SHOWN: &[&str] = &[
            "name",
            "email",
            "country",
            "niche",
            "daily_limit",
            "premium_ratio",
            "timezone",
            "webhook_url",
            "phone_format",
            "required_fields",
            "business_hours",
            "field_mapping",
            "default_values",
            "content_type",
            "auth",
            "valid_phone_only",
        ];
        self.errors
            .iter()
            .filter(|(k, _)| !SHOWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// (value, label) pairs of a `<select>`.
type Options = Vec<(String, String)>;

fn options(catalog: &Catalog) -> (Options, Options) {
    (
        catalog
            .markets()
            .iter()
            .map(|m| (m.slug.clone(), m.name.clone()))
            .collect(),
        catalog
            .niches()
            .iter()
            .map(|n| (n.slug.clone(), n.name.clone()))
            .collect(),
    )
}

async fn form_page(
    state: &AppState,
    op: &Operator,
    form: PartnerForm,
    errors: BTreeMap<String, String>,
    id: Option<i64>,
) -> Result<FormPage, ApiError> {
    let (markets, niches) = options(&*state.catalog().await?);
    let title = if id.is_some() {
        format!("Edit {}", form.name)
    } else {
        "Add Partner".to_string()
    };
    Ok(FormPage {
        chrome: Chrome::new(op, "partners", title),
        form,
        errors,
        id,
        markets,
        niches,
    })
}

async fn new(State(state): State<AppState>, op: Operator) -> Result<Response, ApiError> {
    let mut form = PartnerForm::blank();
    let (markets, niches) = options(&*state.catalog().await?);
    form.country = markets.first().map(|m| m.0.clone()).unwrap_or_default();
    form.niche = niches.first().map(|n| n.0.clone()).unwrap_or_default();
    Ok(render(
        &form_page(&state, &op, form, BTreeMap::new(), None).await?,
    ))
}

/// The form again, with what was typed and the messages beside their fields.
async fn refused(
    state: &AppState,
    op: &Operator,
    form: PartnerForm,
    errors: BTreeMap<String, String>,
    id: Option<i64>,
) -> Result<Response, ApiError> {
    let page = form_page(state, op, form, errors, id).await?;
    Ok(render_status(StatusCode::UNPROCESSABLE_ENTITY, &page))
}

fn secrets_of(a: &PartnerAnswer) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(k) = &a.api_key {
        out.push(("API key".to_string(), k.clone()));
    }
    if let Some(s) = &a.signing_secret {
        out.push(("Signing secret".to_string(), s.clone()));
    }
    out
}

/// To the partner's page, which shows `notice` and `answer`'s secrets this once.
fn to_partner(state: &AppState, op: &Operator, answer: &PartnerAnswer, notice: &str) -> Response {
    let path = format!("/admin/partners/{}", answer.partner.id);
    let warnings = answer.warnings.clone().unwrap_or_default();
    let notice = std::iter::once(notice.to_string())
        .chain(warnings)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    state.flashes().put(
        &op.session_hash,
        Flash {
            notice: (!notice.is_empty()).then_some(notice),
            secrets: secrets_of(answer),
            for_path: path.clone(),
        },
    );
    Redirect::to(&path).into_response()
}

async fn create(State(state): State<AppState>, posted: Posted) -> Result<Response, ApiError> {
    let Posted { op, fields } = posted;
    let form = PartnerForm::read(&fields);
    let (input, mut errors) = form.to_input(&fields, None);
    if !errors.is_empty() {
        return refused(&state, &op, form, errors, None).await;
    }
    match api::create_partner(&state, &input).await {
        Ok(answer) => Ok(to_partner(&state, &op, &answer, "Partner saved.")),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            refused(&state, &op, form, errors, None).await
        }
        Err(e) => Err(e),
    }
}

#[derive(askama::Template)]
#[template(path = "partner.html")]
struct ShowPage {
    chrome: Chrome,
    p: PartnerView,
    flash: Flash,
    test: Option<TestAttempt>,
    deliveries: Vec<DeliveryRow>,
}

impl ShowPage {
    fn local(&self, at: &i64) -> String {
        time::local(*at, &self.p.timezone)
    }

    fn yours(&self, at: &i64) -> String {
        time::local(*at, &self.chrome.timezone)
    }

    fn hours(&self) -> String {
        if self.p.business_hours.is_null() {
            return "always open".into();
        }
        let form = PartnerForm::of(&self.p);
        let days: Vec<String> = form
            .hours
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .map(|(d, h)| format!("{d} {h}"))
            .collect();
        if days.is_empty() {
            "never open".into()
        } else {
            days.join(" · ")
        }
    }

    fn pairs(map: &BTreeMap<String, String>) -> String {
        map.iter()
            .map(|(k, v)| format!("{k} → {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn mapping(&self) -> String {
        Self::pairs(&self.p.field_mapping)
    }

    fn defaults(&self) -> String {
        self.p
            .default_values
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} = {}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn auth(&self) -> String {
        match self.p.auth["type"].as_str() {
            None => "none".into(),
            Some("basic") => format!(
                "basic, user {}",
                self.p.auth["username"].as_str().unwrap_or_default()
            ),
            Some("header") => format!(
                "header {}",
                self.p.auth["name"].as_str().unwrap_or_default()
            ),
            Some(other) => other.to_string(),
        }
    }
}

async fn show_page(
    state: &AppState,
    op: &Operator,
    id: i64,
    test: Option<TestAttempt>,
) -> Result<Response, ApiError> {
    let partner = api::find(state, id).await?;
    let p = api::one(state, &partner).await?;
    let flash = state
        .flashes()
        .take(&op.session_hash, &format!("/admin/partners/{id}"));
    let deliveries = state.store().partner_deliveries(id, 20).await?;
    Ok(render(&ShowPage {
        chrome: Chrome::new(op, "partners", p.name.clone()),
        p,
        flash,
        test,
        deliveries,
    }))
}

async fn show(
    State(state): State<AppState>,
    op: Operator,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    show_page(&state, &op, id, None).await
}

async fn edit(
    State(state): State<AppState>,
    op: Operator,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    let partner = api::find(&state, id).await?;
    let view = api::one(&state, &partner).await?;
    let page = form_page(
        &state,
        &op,
        PartnerForm::of(&view),
        BTreeMap::new(),
        Some(id),
    )
    .await?;
    Ok(render(&page))
}

async fn update(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, ApiError> {
    let Posted { op, fields } = posted;
    let partner = api::find(&state, id).await?;
    let current = api::one(&state, &partner).await?;
    let form = PartnerForm::read(&fields);
    let (input, mut errors) = form.to_input(&fields, Some(&current));
    if !errors.is_empty() {
        return refused(&state, &op, form, errors, Some(id)).await;
    }
    match api::update_partner(&state, id, &input).await {
        Ok(answer) => Ok(to_partner(&state, &op, &answer, "Changes saved.")),
        Err(ApiError::Validation(e)) => {
            errors.extend(e);
            refused(&state, &op, form, errors, Some(id)).await
        }
        Err(e) => Err(e),
    }
}

fn back(state: &AppState, op: &Operator, id: i64, notice: &str) -> Response {
    super::flash::redirect_with_notice(state, op, &format!("/admin/partners/{id}"), notice)
}

async fn pause(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, ApiError> {
    actions::pause_partner(
        state.store(),
        state.signals(),
        id,
        "paused by an operator",
        state.now_ms(),
    )
    .await?
    .ok_or(ApiError::NotFound("no such partner"))?;
    Ok(back(
        &state,
        &posted.op,
        id,
        "Partner paused: its waiting leads go to other partners.",
    ))
}

async fn resume(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, ApiError> {
    actions::resume_partner(state.store(), state.signals(), id, state.now_ms()).await?;
    Ok(back(&state, &posted.op, id, "Partner resumed."))
}

/// Sends a test lead and shows the attempt on the partner's page (htmx swaps in only
/// that panel; a plain post gets the whole page).
async fn test(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, ApiError> {
    let result = api::test_partner(&state, id).await?;
    show_page(&state, &posted.op, id, Some(result.attempt)).await
}

async fn rotate_key(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, ApiError> {
    let answer = api::rotate_partner_key(&state, id).await?;
    Ok(to_partner(
        &state,
        &posted.op,
        &answer,
        "New API key: the old one no longer works.",
    ))
}

async fn rotate_secret(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, ApiError> {
    let answer = api::rotate_partner_secret(&state, id).await?;
    Ok(to_partner(
        &state,
        &posted.op,
        &answer,
        "New signing secret: deliveries are signed with it from now on.",
    ))
}
