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
    let spec = validate_source(input, None, &catalog, &state.settings().allow)
        .map_err(ApiError::Validation)?;
    check_postback_host(state, &spec, None).await?;
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
    let spec = validate_source(
        input,
        Some(&current.spec),
        &catalog,
        &state.settings().allow,
    )
    .map_err(ApiError::Validation)?;
    check_postback_host(state, &spec, Some(&current.spec)).await?;
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

/// A new or changed postback URL's host, resolved: a name that points at a forbidden
/// address is refused (one that does not resolve yet is checked before every postback).
async fn check_postback_host(
    state: &AppState,
    spec: &leadrouter_core::source::SourceSpec,
    base: Option<&leadrouter_core::source::SourceSpec>,
) -> Result<(), ApiError> {
    let Some(template) = &spec.postback_url else {
        return Ok(());
    };
    if base.is_some_and(|b| b.postback_url.as_ref() == Some(template)) {
        return Ok(());
    }
    let filled = template.fill(|_| Some("x".into()));
    let Ok(url) = leadrouter_core::webhook_url::parse_webhook_url(&filled, &state.settings().allow)
    else {
        return Ok(()); // validation already said why
    };
    match crate::webhook_dns::check_webhook_host(state, &url).await {
        crate::webhook_dns::DnsVerdict::Blocked(problem) => {
            Err(ApiError::validation_one("postback_url", problem))
        }
        _ => Ok(()),
    }
}
