//! The failed-deliveries queue: retry one, the selected, or every one matching the filter.

use super::flash::Flash;
use super::form::Posted;
use super::page::{render, Chrome};
use crate::operator::Operator;
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use leadrouter_engine::actions;
use leadrouter_store::console::FailedDelivery;
use leadrouter_store::redelivery::NotRetried;
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/deliveries", get(list))
        .route("/admin/deliveries/retry", post(retry))
}

#[derive(Deserialize, Default)]
struct DeliveryQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    partner_id: String,
    before: Option<i64>,
}

#[derive(askama::Template)]
#[template(path = "deliveries.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<(FailedDelivery, String)>,
    partner_id: String,
    partners: Vec<(i64, String)>,
    flash: Flash,
    next_before: Option<i64>,
    /// The deliveries waiting to retry rather than the failed ones.
    retrying: bool,
}

const PAGE: i64 = 100;

async fn list(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(q): crate::extract::QueryOf<DeliveryQuery>,
) -> Result<Response, PageError> {
    let retrying = match q.status.as_str() {
        "" | "failed" => false,
        "retrying" => true,
        _ => return Err(ApiError::validation_one("status", "must be failed or retrying").into()),
    };
    let partner = q.partner_id.trim().parse::<i64>().ok();
    let rows = if retrying {
        state.store().retrying_deliveries(partner, PAGE).await?
    } else {
        state
            .store()
            .failed_deliveries(partner, q.before, PAGE)
            .await?
    };
    let next_before = (!retrying && rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let mut partners: Vec<(i64, String)> = state
        .store()
        .list_partners(1000, None)
        .await?
        .into_iter()
        .map(|p| (p.id, p.spec.name))
        .collect();
    partners.sort_by(|a, b| a.1.cmp(&b.1));
    let tz = op.timezone.clone();
    Ok(render(&ListPage {
        chrome: Chrome::new(
            &op,
            "deliveries",
            if retrying {
                "Deliveries waiting to retry"
            } else {
                "Failed deliveries"
            },
        ),
        rows: rows
            .into_iter()
            .map(|r| {
                let at = if retrying {
                    time::local_opt(r.next_attempt_at, &tz)
                } else {
                    time::local_opt(r.completed_at, &tz)
                };
                (r, at)
            })
            .collect(),
        retrying,
        partner_id: q.partner_id,
        partners,
        flash: state.flashes().take(&op.session_hash, "/admin/deliveries"),
        next_before,
    }))
}

/// `delivery_id` (one or several, from the row buttons or the checkboxes), or
/// `all=1` with the list's filter.
async fn retry(State(state): State<AppState>, posted: Posted) -> Result<Response, PageError> {
    let Posted { op, fields } = posted;
    let partner = fields.text("partner_id").parse::<i64>().ok();
    let ids: Vec<i64> = if let Ok(one) = fields.text("one").parse::<i64>() {
        vec![one]
    } else if fields.checked("all") {
        state.store().failed_delivery_ids(partner).await?
    } else {
        fields
            .all("delivery_id")
            .iter()
            .filter_map(|v| v.trim().parse().ok())
            .collect()
    };
    let (mut retried, mut moved) = (0, 0);
    for id in &ids {
        match actions::retry_delivery(state.store(), state.signals(), *id, state.now_ms()).await? {
            Ok(_) => retried += 1,
            Err(NotRetried::LeadMoved) => moved += 1,
            Err(NotRetried::NotFailed) => {}
        }
    }
    let mut notice = match (ids.len(), retried) {
        (0, _) => "Select the deliveries to retry.".to_string(),
        (_, 1) => "1 delivery retried.".to_string(),
        (_, n) => format!("{n} deliveries retried."),
    };
    if moved > 0 {
        notice.push_str(&format!(
            " {moved} left alone: their lead has gone to another partner since."
        ));
    }
    let back = match partner {
        Some(p) => format!("/admin/deliveries?status=failed&partner_id={p}"),
        None => "/admin/deliveries?status=failed".into(),
    };
    state.flashes().put(
        &op.session_hash,
        Flash {
            notice: Some(notice),
            secrets: vec![],
            for_path: "/admin/deliveries".into(),
        },
    );
    Ok(Redirect::to(&back).into_response())
}
