//! Markets and niches as operators add them, through the JSON API and the console alike:
//! checked by core's rules, stored with their audit entry, and the catalog every request
//! reads told at once.

use crate::{ApiError, AppState};
use leadrouter_core::market::{validate_market, validate_niche};
use serde_json::Value;

/// Adds a market from operator input (API and console).
pub(crate) async fn add_market(
    state: &AppState,
    input: &serde_json::Map<String, Value>,
    actor: &leadrouter_store::audit::Actor,
) -> Result<leadrouter_core::market::Market, ApiError> {
    let market = validate_market(input).map_err(ApiError::Validation)?;
    leadrouter_engine::actions::add_market(state.store(), &market, state.now_ms(), actor).await?;
    state.catalog_changed().await;
    Ok(market)
}

/// Adds a niche from operator input (API and console).
pub(crate) async fn add_niche(
    state: &AppState,
    input: &serde_json::Map<String, Value>,
    actor: &leadrouter_store::audit::Actor,
) -> Result<leadrouter_core::market::Niche, ApiError> {
    let niche = validate_niche(input).map_err(ApiError::Validation)?;
    leadrouter_engine::actions::add_niche(state.store(), &niche, state.now_ms(), actor).await?;
    state.catalog_changed().await;
    Ok(niche)
}
