//! `/api/admin/markets` and `/api/admin/niches`: where we sell, as data operators extend.

use crate::auth::AdminAuth;
use crate::extract::JsonObject;
use crate::markets::{add_market, add_niche};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/markets", get(list_markets).post(create_market))
        .route("/api/admin/niches", get(list_niches).post(create_niche))
}

async fn list_markets(
    _: AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let markets = state.store().list_markets().await?;
    Ok(Json(json!({ "success": true, "markets": markets })))
}

async fn create_market(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let market = add_market(&state, &input, &auth.actor()).await?;
    let mut body = serde_json::to_value(&market).map_err(|e| ApiError::internal("market", e))?;
    body["success"] = json!(true);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn list_niches(_: AdminAuth, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let niches = state.store().list_niches().await?;
    Ok(Json(json!({ "success": true, "niches": niches })))
}

async fn create_niche(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let niche = add_niche(&state, &input, &auth.actor()).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"success": true, "slug": niche.slug, "name": niche.name})),
    ))
}
