//! The audit trail in the admin API: `GET /api/admin/audit` and
//! `POST /api/admin/partners/{id}/revert`.

use crate::audit_query::AuditQuery;
use crate::auth::AdminAuth;
use crate::extract::{JsonObject, PathId};
use crate::partners::revert_partner;
use crate::views::AuditEntryView;
use crate::views::{AuditList, Success};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/audit", get(list))
        .route("/api/admin/partners/{id}/revert", post(revert))
}

#[utoipa::path(get, path = "/api/admin/audit", tag = "audit", params(crate::audit_query::AuditQuery), responses((status = 200, description = "done", body = crate::views::AuditList)), security(("admin" = [])))]
async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    crate::extract::QueryOf(q): crate::extract::QueryOf<AuditQuery>,
) -> Result<Json<Success<AuditList>>, ApiError> {
    let entries = state.store().audit_entries(&q.filter()?).await?;
    Ok(Json(Success::of(AuditList {
        entries: entries.iter().map(AuditEntryView::new).collect(),
    })))
}

#[utoipa::path(post, path = "/api/admin/partners/{id}/revert", tag = "partners", params(("id" = i64, Path, description = "the record's id")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = serde_json::Value)), security(("admin" = [])))]
async fn revert(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let audit_id = input
        .get("audit_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::validation_one("audit_id", "must be an audit entry's id"))?;
    let answer = revert_partner(&state, id, audit_id, &auth.actor()).await?;
    Ok(super::reply(answer))
}
