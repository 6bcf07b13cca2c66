//! `/api/admin/partners`: the guide's "Adding New Partners", as an API.

use super::reply;
use crate::auth::AdminAuth;
use crate::extract::{JsonObject, Page, PathId};
use crate::partners::{
    create_partner, find, one, rotate_partner_key, rotate_partner_secret, update_partner,
    with_today,
};
use crate::views::{Deleted, PartnerList};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_engine::actions;
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/partners", get(list).post(create))
        .route(
            "/api/admin/partners/{id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/admin/partners/{id}/pause", post(pause))
        .route("/api/admin/partners/{id}/resume", post(resume))
        .route("/api/admin/partners/{id}/rotate-key", post(rotate_key))
        .route(
            "/api/admin/partners/{id}/rotate-secret",
            post(rotate_secret),
        )
}

#[utoipa::path(post, path = "/api/admin/partners", tag = "partners", description = "the partner with its API key and signing secret, shown this once", request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 201, description = "created", body = serde_json::Value)), security(("admin" = [])))]
async fn create(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = create_partner(&state, &input, &auth.actor()).await?;
    Ok((StatusCode::CREATED, reply(body)))
}

#[utoipa::path(get, path = "/api/admin/partners", tag = "partners", params(crate::extract::PageQuery), responses((status = 200, description = "done", body = crate::views::PartnerList)), security(("admin" = [])))]
async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
) -> Result<Json<Value>, ApiError> {
    let partners = state.store().list_partners(page.limit, page.before).await?;
    let next = page.next_before(partners.iter().map(|p| p.id));
    let items = with_today(&state, &partners).await?;
    Ok(super::reply(PartnerList {
        partners: items,
        next_before: next,
    }))
}

#[utoipa::path(get, path = "/api/admin/partners/{id}", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::PartnerView)), security(("admin" = [])))]
async fn show(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let partner = find(&state, id).await?;
    Ok(reply(one(&state, &partner).await?))
}

#[utoipa::path(patch, path = "/api/admin/partners/{id}", tag = "partners", params(("id" = i64, Path, description = "the record's id")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = serde_json::Value)), security(("admin" = [])))]
async fn update(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(reply(
        update_partner(&state, id, &input, &auth.actor(), "update").await?,
    ))
}

#[utoipa::path(delete, path = "/api/admin/partners/{id}", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::Deleted)), security(("admin" = [])))]
async fn remove(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    // Its waiting deliveries would never be sent: their leads go to another partner.
    actions::delete_partner(
        state.store(),
        state.signals(),
        id,
        state.now_ms(),
        &auth.actor(),
    )
    .await?;
    Ok(super::reply(Deleted::of(id)))
}

#[utoipa::path(post, path = "/api/admin/partners/{id}/pause", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::PartnerView)), security(("admin" = [])))]
async fn pause(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let p = actions::pause_partner(
        state.store(),
        state.signals(),
        state.mailing(),
        id,
        "paused by an operator",
        state.now_ms(),
        &auth.actor(),
    )
    .await?
    .ok_or(ApiError::NotFound("no such partner"))?;
    Ok(reply(one(&state, &p).await?))
}

#[utoipa::path(post, path = "/api/admin/partners/{id}/resume", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::PartnerView)), security(("admin" = [])))]
async fn resume(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let p = actions::resume_partner(
        state.store(),
        state.signals(),
        id,
        state.now_ms(),
        &auth.actor(),
    )
    .await?;
    Ok(reply(one(&state, &p).await?))
}

#[utoipa::path(post, path = "/api/admin/partners/{id}/rotate-key", tag = "partners", params(("id" = i64, Path, description = "the record's id")), request_body(content = Option<Object>, content_type = "application/json", description = "optional {\"keep_old_hours\"}"), responses((status = 200, description = "done", body = serde_json::Value)), security(("admin" = [])))]
async fn rotate_key(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: none (or `{}`) rotates with no overlap.
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| ApiError::validation_one("body", "must be a JSON object"))?
    };
    let hours = match body.get("keep_old_hours") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .filter(|h| (0..=actions::MAX_KEY_OVERLAP_HOURS).contains(h))
            .ok_or_else(|| {
                ApiError::validation_one(
                    "keep_old_hours",
                    format!(
                        "must be a whole number of hours from 0 to {}",
                        actions::MAX_KEY_OVERLAP_HOURS
                    ),
                )
            })?,
    };
    Ok(reply(
        rotate_partner_key(&state, id, hours, &auth.actor()).await?,
    ))
}

#[utoipa::path(post, path = "/api/admin/partners/{id}/rotate-secret", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = serde_json::Value)), security(("admin" = [])))]
async fn rotate_secret(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    Ok(reply(
        rotate_partner_secret(&state, id, &auth.actor()).await?,
    ))
}
