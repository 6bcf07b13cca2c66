//! `POST /api/admin/partners/{id}/response/preview`: a candidate `response` setting run
//! over the partner's latest recorded answers, without saving it.

use crate::auth::AdminAuth;
use crate::extract::{JsonObject, PathId};
use crate::partners::find;
use crate::replies::{preview, DEFAULT_CHECKED, MAX_CHECKED};
use crate::views::{ResponsePreview, Success};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use leadrouter_core::reply::ResponseRules;
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/partners/{id}/response/preview", post(check))
}

#[utoipa::path(post, path = "/api/admin/partners/{id}/response/preview", tag = "partners", params(("id" = i64, Path, description = "the record's id")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = crate::views::ResponsePreview)), security(("admin" = [])))]
async fn check(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Success<ResponsePreview>>, ApiError> {
    let partner = find(&state, id).await?;
    let rules = match input.get("response") {
        None => {
            return Err(ApiError::validation_one(
                "response",
                "is required (the setting to check; null checks the status codes alone)",
            ))
        }
        Some(v) => ResponseRules::parse(v).map_err(ApiError::Validation)?,
    };
    let limit = match input.get("limit") {
        None | Some(Value::Null) => DEFAULT_CHECKED,
        Some(v) => v
            .as_i64()
            .filter(|n| (1..=MAX_CHECKED).contains(n))
            .ok_or_else(|| {
                ApiError::validation_one(
                    "limit",
                    format!("must be a number from 1 to {MAX_CHECKED}"),
                )
            })?,
    };
    Ok(Json(Success::of(
        preview(&state, partner.id, rules.as_ref(), limit).await?,
    )))
}
