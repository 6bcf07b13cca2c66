//! The partner's pages: its leads (search by lead id or e-mail), a lead's page with every
//! attempt and the body exactly as sent, returns (request and decisions), conversions and
//! a test lead. Every read goes through the session's partner in SQL; times are the
//! partner's own.

use super::super::seats::PortalUser;
use crate::ui::PortalError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use leadrouter_core::returns::validate_return;
use leadrouter_core::status::ReturnReason;
use leadrouter_store::portal_reads::{PortalConversion, PortalLead};
use leadrouter_store::returns::{NotReturnable, ReturnRow};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::super::form::Posted;
use super::super::page::{render, render_status};
use super::super::seats::{PortalChrome, PARTNER_SEAT};
use crate::time;

/// The partner portal's sections.
const PARTNER_NAV: &[(&str, &str, &str)] = &[
    ("Leads", "/portal", "leads"),
    ("Test lead", "/portal/test", "test"),
    ("Integration", "/portal/integration", "integration"),
    ("Returns", "/portal/returns", "returns"),
    ("Conversions", "/portal/conversions", "conversions"),
];

/// The chrome of `user`'s partner.
pub(super) async fn chrome(
    state: &AppState,
    user: &PortalUser,
    section: &'static str,
    title: &str,
) -> Result<PortalChrome, PortalError> {
    let p = state
        .store()
        .partner(user.owner_id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))?;
    Ok(PortalChrome {
        title: title.to_string(),
        section,
        owner: p.spec.name,
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        timezone: p.spec.timezone,
        seat: &PARTNER_SEAT,
        nav: PARTNER_NAV,
    })
}

#[derive(Deserialize, Default)]
pub(crate) struct LeadsQuery {
    #[serde(default)]
    q: String,
    before: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "portal_leads.html")]
struct LeadsPage {
    chrome: PortalChrome,
    rows: Vec<(PortalLead, String, String)>,
    q: String,
    next_before: Option<i64>,
    notice: Option<String>,
}

const PAGE: i64 = 50;

pub(crate) async fn leads(
    State(state): State<AppState>,
    user: PortalUser,
    crate::extract::QueryOf(q): crate::extract::QueryOf<LeadsQuery>,
) -> Result<Response, PortalError> {
    let chrome = chrome(&state, &user, "leads", "Leads").await?;
    let rows = state
        .store()
        .portal_leads(user.owner_id, Some(&q.q), q.before, PAGE)
        .await?;
    let next_before = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.delivery_id))
        .flatten();
    let tz = chrome.timezone.clone();
    Ok(render(&LeadsPage {
        notice: state.flashes().take(&user.session_hash, "/portal").notice,
        rows: rows
            .into_iter()
            .map(|l| {
                let (r, d) = (
                    time::local(l.received_at, &tz),
                    time::local_opt(l.delivered_at, &tz),
                );
                (l, r, d)
            })
            .collect(),
        q: q.q,
        next_before,
        chrome,
    }))
}

/// One attempt as the partner sees it.
struct AttemptView {
    attempt_no: i64,
    at: String,
    status: Option<i64>,
    latency_ms: i64,
    outcome: &'static str,
    error: Option<String>,
    sent: String,
    excerpt: Option<String>,
}

#[derive(askama::Template)]
#[template(path = "portal_lead.html")]
struct LeadPage {
    chrome: PortalChrome,
    lead: PortalLead,
    received: String,
    delivered: String,
    attempts: Vec<AttemptView>,
    can_return: bool,
    reasons: Vec<(&'static str, &'static str)>,
}

#[derive(askama::Template)]
#[template(path = "portal_missing.html")]
struct Missing {
    chrome: PortalChrome,
}

pub(crate) async fn lead(
    State(state): State<AppState>,
    user: PortalUser,
    crate::extract::PathParts(id): crate::extract::PathParts<String>,
) -> Result<Response, PortalError> {
    let found = match id.trim().parse::<i64>() {
        Ok(id) => state.store().portal_lead(user.owner_id, id).await?,
        Err(_) => None,
    };
    let Some(lead) = found else {
        let chrome = chrome(&state, &user, "leads", "No such lead").await?;
        return Ok(render_status(StatusCode::NOT_FOUND, &Missing { chrome }));
    };
    let chrome = chrome(&state, &user, "leads", &format!("Lead #{}", lead.lead_id)).await?;
    let tz = chrome.timezone.clone();
    let attempts = state
        .store()
        .delivery_attempts(lead.delivery_id)
        .await?
        .into_iter()
        .map(|a| AttemptView {
            attempt_no: a.attempt_no,
            at: time::local(a.at, &tz),
            status: a.status_code,
            latency_ms: a.latency_ms,
            outcome: a.outcome.as_str(),
            error: a.error,
            sent: a.request_body.unwrap_or_else(|| "(not recorded)".into()),
            excerpt: a.response_excerpt,
        })
        .collect();
    Ok(render(&LeadPage {
        received: time::local(lead.received_at, &tz),
        delivered: time::local_opt(lead.delivered_at, &tz),
        can_return: lead.status == leadrouter_core::status::LeadStatus::Delivered.as_str(),
        reasons: ReturnReason::ALL
            .iter()
            .map(|r| (r.as_str(), r.label()))
            .collect(),
        attempts,
        lead,
        chrome,
    }))
}

#[derive(askama::Template)]
#[template(path = "portal_returns.html")]
struct ReturnsPage {
    chrome: PortalChrome,
    rows: Vec<(ReturnRow, String)>,
    notice: Option<String>,
}

impl ReturnsPage {
    fn reason_label<'a>(&self, code: &'a str) -> &'a str {
        ReturnReason::label_of(code)
    }
}

pub(crate) async fn returns(
    State(state): State<AppState>,
    user: PortalUser,
) -> Result<Response, PortalError> {
    let chrome = chrome(&state, &user, "returns", "Returns").await?;
    let rows = state
        .store()
        .list_returns(None, Some(user.owner_id), None, 200)
        .await?;
    let tz = chrome.timezone.clone();
    Ok(render(&ReturnsPage {
        notice: state
            .flashes()
            .take(&user.session_hash, "/portal/returns")
            .notice,
        rows: rows
            .into_iter()
            .map(|r| {
                let at = time::local(r.created_at, &tz);
                (r, at)
            })
            .collect(),
        chrome,
    }))
}

/// Puts `notice` on the next view of `path` and goes there.
pub(super) fn back_to(state: &AppState, user: &PortalUser, path: &str, notice: String) -> Response {
    state.flashes().put(
        &user.session_hash,
        super::super::flash::Flash {
            notice: Some(notice),
            secrets: vec![],
            for_path: path.to_string(),
        },
    );
    Redirect::to(path).into_response()
}

/// The return form of a lead's page.
pub(crate) async fn request_return(
    State(state): State<AppState>,
    Posted { op: user, fields }: Posted<PortalUser>,
) -> Result<Response, PortalError> {
    let mut body = Map::new();
    for k in ["lead_id", "reason", "note"] {
        body.insert(k.into(), Value::String(fields.text(k)));
    }
    let notice = match validate_return(&body) {
        Err(errors) => errors
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join("; "),
        Ok(req) => {
            let window = state.settings().return_window_ms;
            match state
                .store()
                .request_return(user.owner_id, &req, window, state.now_ms())
                .await?
            {
                Ok(id) => format!(
                    "Return #{id} of lead #{} requested: waiting for the decision.",
                    req.lead_id
                ),
                Err(NotReturnable::NotDelivered) => {
                    // Another partner's lead (or none): not found, as on every portal URL.
                    let chrome = chrome(&state, &user, "returns", "No such lead").await?;
                    return Ok(render_status(StatusCode::NOT_FOUND, &Missing { chrome }));
                }
                Err(NotReturnable::PastWindow) => {
                    "This lead was delivered too long ago to be returned.".into()
                }
                Err(NotReturnable::AlreadyReturned) => {
                    "This lead has already been returned.".into()
                }
            }
        }
    };
    Ok(back_to(&state, &user, "/portal/returns", notice))
}

#[derive(askama::Template)]
#[template(path = "portal_conversions.html")]
struct ConversionsPage {
    chrome: PortalChrome,
    rows: Vec<(PortalConversion, String, String)>,
    partner_id: i64,
}

pub(crate) async fn conversions(
    State(state): State<AppState>,
    user: PortalUser,
) -> Result<Response, PortalError> {
    let chrome = chrome(&state, &user, "conversions", "Conversions").await?;
    let tz = chrome.timezone.clone();
    let rows = state
        .store()
        .portal_conversions(user.owner_id, 200)
        .await?
        .into_iter()
        .map(|c| {
            let at = time::local(c.created_at, &tz);
            let value = leadrouter_core::money::Money(c.value_cents).to_string();
            (c, at, value)
        })
        .collect();
    Ok(render(&ConversionsPage {
        chrome,
        rows,
        partner_id: user.owner_id,
    }))
}

#[derive(askama::Template)]
#[template(path = "portal_test.html")]
struct TestPage {
    chrome: PortalChrome,
    result: Option<crate::test_lead::TestResult>,
    payload: String,
}

impl TestPage {
    /// When the test was sent, in the partner's timezone.
    fn when(&self, at: &i64) -> String {
        crate::time::local(*at, &self.chrome.timezone)
    }
}

pub(crate) async fn test_page(
    State(state): State<AppState>,
    user: PortalUser,
) -> Result<Response, PortalError> {
    Ok(render(&TestPage {
        chrome: chrome(&state, &user, "test", "Send test lead").await?,
        result: None,
        payload: String::new(),
    }))
}

/// Sends a test lead to the partner's own webhook now, and shows what happened.
pub(crate) async fn send_test(
    State(state): State<AppState>,
    Posted { op: user, .. }: Posted<PortalUser>,
) -> Result<Response, PortalError> {
    let result = crate::test_lead::test_partner(&state, user.owner_id).await?;
    tracing::info!(
        partner_id = user.owner_id,
        user_id = user.user_id,
        outcome = result.attempt.outcome,
        "portal test lead"
    );
    Ok(render(&TestPage {
        chrome: chrome(&state, &user, "test", "Send test lead").await?,
        payload: serde_json::to_string_pretty(&result.payload).unwrap_or_default(),
        result: Some(result),
    }))
}
