//! `/api/admin/markets` and `/api/admin/niches`: where we sell, as data operators extend.

use crate::auth::AdminAuth;
use crate::extract::JsonObject;
use crate::markets::{add_market, add_niche};
use crate::views::{MarketList, NicheList};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/markets", get(list_markets).post(create_market))
        .route("/api/admin/niches", get(list_niches).post(create_niche))
}

#[utoipa::path(get, path = "/api/admin/markets", tag = "catalog", responses((status = 200, description = "done", body = crate::views::MarketList)), security(("admin" = [])))]
async fn list_markets(
    _: AdminAuth,
    State(state): State<AppState>,
) -> Result<Json<Value>, ApiError> {
    let markets = state.store().list_markets().await?;
    Ok(super::reply(MarketList { markets }))
}

#[utoipa::path(post, path = "/api/admin/markets", tag = "catalog", request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 201, description = "created", body = serde_json::Value)), security(("admin" = [])))]
async fn create_market(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let market = add_market(&state, &input, &auth.actor()).await?;
    Ok((StatusCode::CREATED, super::reply(market)))
}

#[utoipa::path(get, path = "/api/admin/niches", tag = "catalog", responses((status = 200, description = "done", body = crate::views::NicheList)), security(("admin" = [])))]
async fn list_niches(_: AdminAuth, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let niches = state.store().list_niches().await?;
    Ok(super::reply(NicheList { niches }))
}

#[utoipa::path(post, path = "/api/admin/niches", tag = "catalog", request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 201, description = "created", body = serde_json::Value)), security(("admin" = [])))]
async fn create_niche(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let niche = add_niche(&state, &input, &auth.actor()).await?;
    Ok((StatusCode::CREATED, super::reply(niche)))
}
