//! Sources, as operators change them: created with their inbound token (shown once),
//! changed, their token rotated (the old one stops at once). The input is a
//! [`SourceSpec`] already read and checked by core's rules.

use super::ActionError;
use crate::secrets;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::source::SourceSpec;
use leadrouter_core::token::{display_prefix, hash_secret};
use leadrouter_store::audit::Actor;
use leadrouter_store::sources::Source;
use leadrouter_store::Store;

/// Creates a source; returns it with its token, shown this once.
pub async fn create_source(
    store: &Store,
    spec: &SourceSpec,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(Source, String), ActionError> {
    let token = secrets::new_source_token();
    let source = store
        .create_source(
            spec,
            &hash_secret(&token),
            &display_prefix(&token),
            now,
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

/// Changes a source's settings to `spec`.
pub async fn update_source(
    store: &Store,
    id: i64,
    spec: &SourceSpec,
    now: EpochMillis,
    actor: &Actor,
) -> Result<Source, ActionError> {
    let source = store.update_source(id, spec, now, actor).await?;
    tracing::info!(source_id = id, "source updated");
    Ok(source)
}

/// A new token for the source (the old one stops working at once), shown this once.
pub async fn rotate_source_token(
    store: &Store,
    id: i64,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(Source, String), ActionError> {
    let token = secrets::new_source_token();
    let source = store
        .set_source_token(
            id,
            &hash_secret(&token),
            &display_prefix(&token),
            now,
            actor,
        )
        .await?;
    tracing::info!(source_id = id, "source token rotated");
    Ok((source, token))
}
