//! Inviting people to a portal — a partner's or a supplier's — from the JSON API and the
//! console alike: the address read, the engine's action called (the link, the mail, the
//! answer's link when no mail service sends it).

use crate::{ApiError, AppState};
use leadrouter_engine::actions;
use leadrouter_store::portal::{Member, Portal};

/// Invites `email` to the portal of the partner or source `owner_id`; the link comes back
/// when the operator must hand it over (no mail service).
pub(crate) async fn invite(
    state: &AppState,
    portal: Portal,
    owner_id: i64,
    email: &str,
    actor: &leadrouter_store::audit::Actor,
) -> Result<(Member, Option<String>), ApiError> {
    let email = email.trim().to_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(ApiError::validation_one(
            "email",
            "must be an e-mail address",
        ));
    }
    Ok(actions::invite_member(
        state.store(),
        state.signals(),
        state.mailing(),
        portal,
        owner_id,
        &email,
        state.now_ms(),
        actor,
    )
    .await?)
}

/// A new invitation for a user who has not set a password yet; the old link stops
/// working.
pub(crate) async fn reinvite(
    state: &AppState,
    portal: Portal,
    owner_id: i64,
    user_id: i64,
    actor: &leadrouter_store::audit::Actor,
) -> Result<(Member, Option<String>), ApiError> {
    Ok(actions::reinvite_member(
        state.store(),
        state.signals(),
        state.mailing(),
        portal,
        owner_id,
        user_id,
        state.now_ms(),
        actor,
    )
    .await?)
}
