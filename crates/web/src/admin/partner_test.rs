//! `POST /api/admin/partners/{id}/test`: a test lead through the same path as real
//! deliveries (payload, signature, SSRF guard, client), and the attempt it made. Nothing is
//! stored.

use crate::auth::AdminAuth;
use crate::extract::PathId;
use crate::test_lead::test_partner;
use crate::test_lead::TestResult;
use crate::views::Success;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/partners/{id}/test", post(send_test))
}

/// Sends a test lead through the same path as real deliveries (payload, signature, SSRF
/// guard, client) and returns the attempt. Nothing is stored.
#[utoipa::path(post, path = "/api/admin/partners/{id}/test", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::test_lead::TestResult)), security(("admin" = [])))]
pub(super) async fn send_test(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Success<TestResult>>, ApiError> {
    Ok(Json(Success::of(test_partner(&state, id).await?)))
}
