//! Markets and niches as operators add them (already read and checked by core's rules),
//! each stored with its audit entry.

use super::ActionError;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::market::{Market, Niche};
use leadrouter_store::audit::Actor;
use leadrouter_store::Store;

pub async fn add_market(
    store: &Store,
    market: &Market,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(), ActionError> {
    store.create_market(market, now, actor).await?;
    tracing::info!(market = %market.slug, "market added");
    Ok(())
}

pub async fn add_niche(
    store: &Store,
    niche: &Niche,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(), ActionError> {
    store.create_niche(niche, now, actor).await?;
    tracing::info!(niche = %niche.slug, "niche added");
    Ok(())
}
