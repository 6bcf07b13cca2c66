//! `/api/admin/sources`: where leads come from. Each source's token is shown once.

use super::reply;
use crate::auth::AdminAuth;
use crate::extract::{JsonObject, Page, PathId};
use crate::views::SourceView;
use crate::{secrets, ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_core::source::validate_source;
use leadrouter_core::token::{display_prefix, hash_secret};
use leadrouter_store::audit::Actor;
use leadrouter_store::sources::Source;
use serde::Serialize;
use serde_json::{json, Value};

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

/// The URL a source posts to, with its token (shown only when the token is new).
pub(crate) fn inbound_url(state: &AppState, s: &Source, token: &str) -> String {
    format!(
        "{}{}",
        state.settings().public_url,
        s.spec.kind.inbound_path(token)
    )
}

/// Creates a source from operator input; returns it with its token, shown this once.
pub(crate) async fn create_source(
    state: &AppState,
    input: &serde_json::Map<String, Value>,
    actor: &Actor,
) -> Result<(Source, String), ApiError> {
    let catalog = state.catalog().await?;
    let spec = validate_source(input, None, &catalog).map_err(ApiError::Validation)?;
    let token = secrets::new_source_token();
    let source = state
        .store()
        .create_source(
            &spec,
            &hash_secret(&token),
            &display_prefix(&token),
            state.now_ms(),
            actor,
        )
        .await?;
    tracing::info!(
        source_id = source.id,
        kind = spec.kind.as_str(),
        "source created"
    );
    Ok((source, token))
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
) -> Result<Json<Value>, ApiError> {
    let sources = state.store().list_sources(page.limit, page.before).await?;
    let next = page.next_before(sources.iter().map(|s| s.id));
    let items: Vec<SourceView> = sources.iter().map(SourceView::new).collect();
    Ok(Json(
        json!({"success": true, "sources": items, "next_before": next}),
    ))
}

pub(crate) async fn find(state: &AppState, id: i64) -> Result<Source, ApiError> {
    state
        .store()
        .source(id)
        .await?
        .ok_or(ApiError::NotFound("no such source"))
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

/// Changes a source's settings: absent fields keep their values.
pub(crate) async fn update_source(
    state: &AppState,
    id: i64,
    input: &serde_json::Map<String, Value>,
    actor: &Actor,
) -> Result<Source, ApiError> {
    let current = find(state, id).await?;
    let catalog = state.catalog().await?;
    let spec =
        validate_source(input, Some(&current.spec), &catalog).map_err(ApiError::Validation)?;
    let source = state
        .store()
        .update_source(id, &spec, state.now_ms(), actor)
        .await?;
    state.sources_changed();
    tracing::info!(source_id = id, "source updated");
    Ok(source)
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
    Ok(Json(json!({"success": true, "id": id, "deleted": true})))
}

async fn rotate_token(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let (source, token) = rotate_source_token(&state, id, &auth.actor()).await?;
    Ok(with_token(&state, &source, &token))
}

/// A new token for the source (the old one stops working at once), shown this once.
pub(crate) async fn rotate_source_token(
    state: &AppState,
    id: i64,
    actor: &Actor,
) -> Result<(Source, String), ApiError> {
    let token = secrets::new_source_token();
    let source = state
        .store()
        .set_source_token(
            id,
            &hash_secret(&token),
            &display_prefix(&token),
            state.now_ms(),
            actor,
        )
        .await?;
    state.sources_changed();
    tracing::info!(source_id = id, "source token rotated");
    Ok((source, token))
}
