//! `POST /api/admin/routing/simulate`: where a lead would go and why, writing nothing.

use crate::auth::AdminAuth;
use crate::extract::JsonObject;
use crate::simulation::{moment, simulate, SimulationView};
use crate::views::Success;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/routing/simulate", post(run))
}

#[utoipa::path(post, path = "/api/admin/routing/simulate", tag = "routing", request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = crate::simulation::SimulationView)), security(("admin" = [])))]
async fn run(
    _: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<Json<Success<SimulationView>>, ApiError> {
    let lead = match input.get("lead") {
        Some(Value::Object(lead)) => lead,
        _ => {
            return Err(ApiError::validation_one(
                "lead",
                "is required: the lead as a source would send it (an object)",
            ))
        }
    };
    let at = match input.get("at") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.as_str()),
        Some(_) => return Err(ApiError::validation_one("at", "must be an RFC 3339 moment")),
    };
    let source_id = match input.get("source_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .ok_or_else(|| ApiError::validation_one("source_id", "must be a source's id"))?,
        ),
    };
    let at = moment(&state, at)?;
    Ok(Json(Success::of(
        simulate(&state, lead, source_id, at).await?,
    )))
}
