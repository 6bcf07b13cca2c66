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
    let mut source = store
        .create_source(
            spec,
            &hash_secret(&token),
            &display_prefix(&token),
            now,
            actor,
        )
        .await?;
    // Its postbacks' signing secret, shown with the token this once.
    let secret = secrets::new_signing_secret();
    store.set_source_signing_secret(source.id, &secret).await?;
    source.signing_secret = Some(leadrouter_core::secret::Secret::new(secret));
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
    let mut source = store.update_source(id, spec, now, actor).await?;
    // An older source that gets a postback URL gets its signing secret now (shown once).
    let made = if spec.postback_url.is_some() && source.signing_secret.is_none() {
        let secret = secrets::new_signing_secret();
        store
            .set_source_signing_secret(id, &secret)
            .await?
            .then_some(secret)
    } else {
        None
    };
    source.signing_secret = made.map(leadrouter_core::secret::Secret::new);
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
