//! Data protection in the admin API: erasing a person (`POST /api/admin/privacy/erase`),
//! what partners were told (`GET /api/admin/privacy/notices`), and a lead's consent
//! evidence as one JSON document (`GET /api/admin/leads/{id}/evidence`).

use crate::auth::AdminAuth;
use crate::extract::{JsonObject, PathId};
use crate::privacy::{erase_contact, evidence_download};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_core::localtime::rfc3339;
use serde_json::{json, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/privacy/erase", post(erase))
        .route("/api/admin/privacy/notices", get(notices))
        .route("/api/admin/leads/{id}/evidence", get(evidence))
}

async fn erase(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let done = erase_contact(&state, &input, &auth.actor()).await?;
    Ok(Json(json!({
        "success": true,
        "erased_leads": done.erased_leads,
        "notified_partners": done.notified_partners,
        "unnotified_partners": done.unnotified_partners,
    })))
}

async fn notices(_: AdminAuth, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let rows = state.store().list_erasure_notices(200).await?;
    let notices: Vec<Value> = rows
        .iter()
        .map(|n| {
            json!({
                "id": n.id,
                "partner_id": n.partner_id,
                "status": n.status,
                "attempts": n.attempts,
                "last_status": n.last_status,
                "last_error": n.last_error,
                "created_at": rfc3339(n.created_at),
                "sent_at": n.sent_at.map(rfc3339),
            })
        })
        .collect();
    Ok(Json(json!({"success": true, "notices": notices})))
}

async fn evidence(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    evidence_download(&state, id).await
}
