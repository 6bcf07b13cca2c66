//! What the JSON API and the console both do with a source: its input checked by core's
//! rules, the action of `engine::actions` called, the token cache told, the inbound URL
//! written. Neither presenter imports the other.

use crate::{ApiError, AppState};
use leadrouter_core::source::validate_source;
use leadrouter_engine::actions;
use leadrouter_store::audit::Actor;
use leadrouter_store::sources::Source;
use serde_json::{Map, Value};

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
    input: &Map<String, Value>,
    actor: &Actor,
) -> Result<(Source, String), ApiError> {
    let catalog = state.catalog().await?;
    let spec = validate_source(input, None, &catalog).map_err(ApiError::Validation)?;
    Ok(actions::create_source(state.store(), &spec, state.now_ms(), actor).await?)
}

pub(crate) async fn find(state: &AppState, id: i64) -> Result<Source, ApiError> {
    state
        .store()
        .source(id)
        .await?
        .ok_or(ApiError::NotFound("no such source"))
}

/// Changes a source's settings: absent fields keep their values.
pub(crate) async fn update_source(
    state: &AppState,
    id: i64,
    input: &Map<String, Value>,
    actor: &Actor,
) -> Result<Source, ApiError> {
    let current = find(state, id).await?;
    let catalog = state.catalog().await?;
    let spec =
        validate_source(input, Some(&current.spec), &catalog).map_err(ApiError::Validation)?;
    let source = actions::update_source(state.store(), id, &spec, state.now_ms(), actor).await?;
    state.sources_changed();
    Ok(source)
}

/// A new token for the source (the old one stops working at once), shown this once.
pub(crate) async fn rotate_source_token(
    state: &AppState,
    id: i64,
    actor: &Actor,
) -> Result<(Source, String), ApiError> {
    let made = actions::rotate_source_token(state.store(), id, state.now_ms(), actor).await?;
    state.sources_changed();
    Ok(made)
}
