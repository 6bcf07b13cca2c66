//! `/api/admin/markets` and `/api/admin/niches`: the data that says where we sell.

use crate::auth::AdminAuth;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/markets", get(list_markets))
        .route("/api/admin/niches", get(list_niches))
}

async fn list_markets(
    _: AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let markets = state.store().list_markets().await?;
    Ok(Json(json!({ "success": true, "markets": markets })))
}

async fn list_niches(_: AdminAuth, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let niches = state.store().list_niches().await?;
    Ok(Json(json!({ "success": true, "niches": niches })))
}
