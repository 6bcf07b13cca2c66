//! Data protection in the admin API: erasing a person (`POST /api/admin/privacy/erase`),
//! what partners were told (`GET /api/admin/privacy/notices`), and a lead's consent
//! evidence as one JSON document (`GET /api/admin/leads/{id}/evidence`).

use crate::auth::AdminAuth;
use crate::extract::{JsonObject, PathId};
use crate::privacy::{erase_contact, evidence_download};
use crate::views::{ErasedView, ErasureNoticeView, NoticeList, Success};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/privacy/erase", post(erase))
        .route("/api/admin/privacy/notices", get(notices))
        .route("/api/admin/leads/{id}/evidence", get(evidence))
}

#[utoipa::path(post, path = "/api/admin/privacy/erase", tag = "privacy", request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = crate::views::ErasedView)), security(("admin" = [])))]
async fn erase(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<Json<Success<ErasedView>>, ApiError> {
    let done = erase_contact(&state, &input, &auth.actor()).await?;
    Ok(Json(Success::of(ErasedView {
        erased_leads: done.erased_leads,
        notified_partners: done.notified_partners,
        unnotified_partners: done.unnotified_partners,
    })))
}

#[utoipa::path(get, path = "/api/admin/privacy/notices", tag = "privacy", responses((status = 200, description = "the newest 200", body = crate::views::NoticeList)), security(("admin" = [])))]
async fn notices(
    _: AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<Success<NoticeList>>, ApiError> {
    let rows = state.store().list_erasure_notices(200).await?;
    Ok(Json(Success::of(NoticeList {
        notices: rows.iter().map(ErasureNoticeView::new).collect(),
    })))
}

#[utoipa::path(get, path = "/api/admin/leads/{id}/evidence", tag = "privacy", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::Evidence)), security(("admin" = [])))]
async fn evidence(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Response, ApiError> {
    evidence_download(&state, id).await
}
