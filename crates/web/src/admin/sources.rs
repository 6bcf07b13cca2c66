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
        .route("/api/admin/sources/{id}/postbacks", get(postbacks))
}

/// A source with its freshly issued token: the only time it and its URL are shown.
#[derive(Serialize, utoipa::ToSchema)]
struct WithToken {
    #[serde(flatten)]
    source: SourceView,
    token: String,
    inbound_url: String,
    /// What its postbacks are signed with: shown this once.
    signing_secret: Option<String>,
}

fn with_token(state: &AppState, s: &Source, token: &str) -> Json<Value> {
    reply(WithToken {
        source: SourceView::new(s),
        token: token.to_string(),
        inbound_url: inbound_url(state, s, token),
        signing_secret: s.signing_secret.as_ref().map(|k| k.expose().to_string()),
    })
}

#[utoipa::path(post, path = "/api/admin/sources", tag = "sources", request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 201, description = "created", body = WithToken)), security(("admin" = [])))]
async fn create(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (source, token) = create_source(&state, &input, &auth.actor()).await?;
    Ok((StatusCode::CREATED, with_token(&state, &source, &token)))
}

#[utoipa::path(get, path = "/api/admin/sources", tag = "sources", params(crate::extract::PageQuery), responses((status = 200, description = "done", body = crate::views::SourceList)), security(("admin" = [])))]
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

#[utoipa::path(get, path = "/api/admin/sources/{id}", tag = "sources", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::SourceView)), security(("admin" = [])))]
async fn show(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    Ok(reply(SourceView::new(&find(&state, id).await?)))
}

#[utoipa::path(patch, path = "/api/admin/sources/{id}", tag = "sources", params(("id" = i64, Path, description = "the record's id")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = Updated)), security(("admin" = [])))]
async fn update(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let source = update_source(&state, id, &input, &auth.actor()).await?;
    Ok(reply(Updated {
        source: SourceView::new(&source),
        signing_secret: source
            .signing_secret
            .as_ref()
            .map(|k| k.expose().to_string()),
    }))
}

/// A changed source; with its postbacks' signing secret when it was made by this change
/// (a postback URL set on a source that had none), this once.
#[derive(serde::Serialize, utoipa::ToSchema)]
struct Updated {
    #[serde(flatten)]
    source: SourceView,
    #[serde(skip_serializing_if = "Option::is_none")]
    signing_secret: Option<String>,
}

#[utoipa::path(delete, path = "/api/admin/sources/{id}", tag = "sources", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = crate::views::Deleted)), security(("admin" = [])))]
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

#[utoipa::path(post, path = "/api/admin/sources/{id}/rotate-token", tag = "sources", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = WithToken)), security(("admin" = [])))]
async fn rotate_token(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let (source, token) = rotate_source_token(&state, id, &auth.actor()).await?;
    Ok(with_token(&state, &source, &token))
}

/// One postback as listed.
#[derive(Serialize, utoipa::ToSchema)]
struct PostbackView {
    id: i64,
    lead_id: i64,
    event: String,
    /// `pending`, `sent` or `failed`.
    status: String,
    attempts: i64,
    /// The URL as last sent (placeholders filled).
    url: Option<String>,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: String,
    sent_at: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
struct PostbackList {
    postbacks: Vec<PostbackView>,
}

/// `GET /api/admin/sources/{id}/postbacks`: its latest 200 postbacks, newest first.
#[utoipa::path(get, path = "/api/admin/sources/{id}/postbacks", tag = "sources", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "the newest 200", body = PostbackList)), security(("admin" = [])))]
async fn postbacks(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let source = find(&state, id).await?;
    let rows = state.store().list_postbacks(source.id, 200).await?;
    let rfc = leadrouter_core::localtime::rfc3339;
    Ok(reply(PostbackList {
        postbacks: rows
            .into_iter()
            .map(|r| PostbackView {
                id: r.id,
                lead_id: r.lead_id,
                event: r.event,
                status: r.status,
                attempts: r.attempts,
                url: r.url,
                last_status: r.last_status,
                last_error: r.last_error,
                created_at: rfc(r.created_at),
                sent_at: r.sent_at.map(rfc),
            })
            .collect(),
    }))
}
