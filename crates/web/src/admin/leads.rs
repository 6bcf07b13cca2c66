//! `/api/admin/leads`: what came in, where it stands, and why. Also the submissions we
//! refused, so that nothing is silently dropped.

use super::reply;
use crate::auth::AdminAuth;
use crate::extract::JsonObject;
use crate::extract::{Page, PathId};
use crate::leads::{assign_to, find_lead, lead_filter, ListQuery};
use crate::views::{ConversionView, DeliveryView, LeadView};
use crate::views::{LeadAssigned, LeadQueued, Success};
use crate::views::{LeadList, RejectedList, RejectedSubmissionView};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_core::status::LeadStatus;
use leadrouter_engine::actions::{self};
use serde::Serialize;
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/leads", get(list))
        .route("/api/admin/leads/{id}", get(show))
        .route("/api/admin/leads/{id}/retry", post(retry))
        .route("/api/admin/leads/{id}/assign", post(assign))
        .route("/api/admin/rejected-submissions", get(rejections))
}

/// A lead's page: the lead, every delivery with its attempts, its conversions.
#[derive(Serialize, utoipa::ToSchema)]
struct LeadPage {
    #[serde(flatten)]
    lead: LeadView,
    deliveries: Vec<DeliveryView>,
    conversions: Vec<ConversionView>,
}

#[utoipa::path(get, path = "/api/admin/leads", tag = "leads", params(crate::leads::ListQuery, crate::extract::PageQuery), responses((status = 200, description = "done", body = crate::views::LeadList)), security(("admin" = [])))]
async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
    crate::extract::QueryOf(q): crate::extract::QueryOf<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let filter = lead_filter(&state, q, page.limit, page.before).await?;
    let leads = state.store().list_leads(&filter).await?;
    let next = page.next_before(leads.iter().map(|l| l.id));
    let items: Vec<LeadView> = leads.iter().map(LeadView::new).collect();
    Ok(super::reply(LeadList {
        leads: items,
        next_before: next,
    }))
}

#[utoipa::path(get, path = "/api/admin/leads/{id}", tag = "leads", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = LeadPage)), security(("admin" = [])))]
async fn show(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let lead = state
        .store()
        .lead(id)
        .await?
        .ok_or(ApiError::NotFound("no such lead"))?;
    let deliveries = state.store().lead_deliveries(id).await?;
    let mut items = Vec::with_capacity(deliveries.len());
    for d in &deliveries {
        let attempts = state.store().delivery_attempts(d.id).await?;
        items.push(DeliveryView::new(d, &attempts));
    }
    let conversions = state.store().lead_conversions(id).await?;
    let consent = state.store().lead_consent(&lead).await?;
    Ok(reply(LeadPage {
        lead: LeadView::new(&lead).with_consent(consent.as_ref()),
        deliveries: items,
        conversions: conversions.iter().map(ConversionView::new).collect(),
    }))
}

#[utoipa::path(get, path = "/api/admin/rejected-submissions", tag = "leads", params(crate::extract::PageQuery), responses((status = 200, description = "done", body = crate::views::RejectedList)), security(("admin" = [])))]
async fn rejections(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
) -> Result<Json<Value>, ApiError> {
    let items = state
        .store()
        .list_rejections(page.limit, page.before)
        .await?;
    let next = page.next_before(items.iter().map(|r| r.id));
    Ok(super::reply(RejectedList {
        rejected_submissions: items.iter().map(RejectedSubmissionView::new).collect(),
        next_before: next,
    }))
}

#[utoipa::path(post, path = "/api/admin/leads/{id}/retry", tag = "leads", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::LeadQueued)), security(("admin" = [])))]
async fn retry(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Success<LeadQueued>>, ApiError> {
    let lead = find_lead(&state, id).await?;
    if !actions::retry_lead(state.store(), state.signals(), id, state.now_ms()).await? {
        return Err(ApiError::Conflict(format!(
            "only held, failed or expired leads can be retried; this one is {}",
            lead.status.as_str()
        )));
    }
    Ok(Json(Success::of(LeadQueued {
        lead_id: id,
        status: LeadStatus::Queued.as_str(),
    })))
}

/// Assigns a lead to a partner an operator chose. The SSRF guard still applies; the daily
/// limit does not (the answer says when it was passed).
#[utoipa::path(post, path = "/api/admin/leads/{id}/assign", tag = "leads", params(("id" = i64, Path, description = "the record's id")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = crate::views::LeadAssigned)), security(("admin" = [])))]
async fn assign(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Success<LeadAssigned>>, ApiError> {
    let lead = find_lead(&state, id).await?;
    let partner_id = input
        .get("partner_id")
        .and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        })
        .ok_or_else(|| ApiError::validation_one("partner_id", "is required (a partner id)"))?;
    let (assigned, warnings) = assign_to(&state, &lead, partner_id).await?;
    Ok(Json(Success::of(LeadAssigned {
        lead_id: id,
        partner_id,
        delivery_id: assigned.delivery_id,
        status: LeadStatus::Assigned.as_str(),
        over_cap: assigned.over_cap.is_some(),
        warnings,
    })))
}
