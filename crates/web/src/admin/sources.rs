//! `/api/admin/sources`: where leads come from. Each source's token is shown once.

use super::reply;
use crate::auth::AdminAuth;
use crate::extract::{JsonObject, Page, PathId};
use crate::sources::{create_source, find, inbound_url, rotate_source_token, update_source};
use crate::views::SourceView;
use crate::views::{Deleted, SourceList};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_store::sources::Source;
use serde::Serialize;
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/sources", get(list).post(create))
        .route(
            "/api/admin/sources/{id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/admin/sources/{id}/rotate-token", post(rotate_token))
}

/// A source with its freshly issued token: the only time it and its URL are shown.
#[derive(Serialize)]
struct WithToken {
    #[serde(flatten)]
    source: SourceView,
    token: String,
    inbound_url: String,
}

fn with_token(state: &AppState, s: &Source, token: &str) -> Json<Value> {
    reply(WithToken {
        source: SourceView::new(s),
        token: token.to_string(),
        inbound_url: inbound_url(state, s, token),
    })
}

async fn create(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (source, token) = create_source(&state, &input, &auth.actor()).await?;
    Ok((StatusCode::CREATED, with_token(&state, &source, &token)))
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
) -> Result<Json<Value>, ApiError> {
    let sources = state.store().list_sources(page.limit, page.before).await?;
    let next = page.next_before(sources.iter().map(|s| s.id));
    let items: Vec<SourceView> = sources.iter().map(SourceView::new).collect();
    Ok(super::reply(SourceList {
        sources: items,
        next_before: next,
    }))
}

async fn show(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    Ok(reply(SourceView::new(&find(&state, id).await?)))
}

async fn update(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(reply(SourceView::new(
        &update_source(&state, id, &input, &auth.actor()).await?,
    )))
}

async fn remove(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    state
        .store()
        .delete_source(id, state.now_ms(), &auth.actor())
        .await?;
    state.sources_changed();
    tracing::info!(source_id = id, "source deleted");
    Ok(super::reply(Deleted::of(id)))
}

async fn rotate_token(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let (source, token) = rotate_source_token(&state, id, &auth.actor()).await?;
    Ok(with_token(&state, &source, &token))
}
