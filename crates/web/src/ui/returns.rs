//! The returns queue: partners' returns, pending first, each approved or declined with a
//! remark (through the same decision as the admin API).

use super::flash::{redirect_with_notice, Flash};
use super::form::Posted;
use super::page::{render, Chrome};
use crate::operator::Operator;
use crate::returns::{decide, status_filter};
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use leadrouter_store::returns::ReturnRow;
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/returns", get(list))
        .route("/admin/returns/{id}/{decision}", post(decide_one))
}

#[derive(Deserialize, Default)]
struct ReturnsQuery {
    status: Option<String>,
    before: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "returns.html")]
struct ListPage {
    chrome: Chrome,
    /// Each return with its request time and decision time in the operator's timezone.
    rows: Vec<(ReturnRow, String, String)>,
    status: String,
    flash: Flash,
    next_before: Option<i64>,
}

impl ListPage {
    fn reason_label<'a>(&self, code: &'a str) -> &'a str {
        leadrouter_core::status::ReturnReason::label_of(code)
    }
}

const PAGE: i64 = 100;

async fn list(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(q): crate::extract::QueryOf<ReturnsQuery>,
) -> Result<Response, PageError> {
    // Pending by default: the queue; `status=` (empty) lists every return.
    let status = q.status.unwrap_or_else(|| "pending".into());
    let rows = state
        .store()
        .list_returns(status_filter(Some(&status))?, None, q.before, PAGE)
        .await?;
    let next_before = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let tz = op.timezone.clone();
    Ok(render(&ListPage {
        chrome: Chrome::new(&op, "returns", "Returns"),
        rows: rows
            .into_iter()
            .map(|r| {
                let (asked, decided) = (
                    time::local(r.created_at, &tz),
                    time::local_opt(r.decided_at, &tz),
                );
                (r, asked, decided)
            })
            .collect(),
        status,
        flash: state.flashes().take(&op.session_hash, "/admin/returns"),
        next_before,
    }))
}

/// `approve` or `decline`, with the form's `remark`.
async fn decide_one(
    State(state): State<AppState>,
    crate::extract::PathParts((id, decision)): crate::extract::PathParts<(i64, String)>,
    posted: Posted,
) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let approve = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(ApiError::NotFound("no such action").into()),
    };
    let remark = fields.text("remark");
    let notice = match decide(
        &state,
        id,
        approve,
        Some(&remark),
        &format!("{} (console)", op.email),
    )
    .await
    {
        Ok(r) => format!("Return #{} of lead #{} {}.", r.id, r.lead_id, r.status),
        Err(ApiError::Conflict(m)) => format!("Return #{id}: {m}."),
        Err(e) => return Err(e.into()),
    };
    Ok(redirect_with_notice(&state, &op, "/admin/returns", notice))
}
