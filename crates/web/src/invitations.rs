//! Inviting a partner's people to its portal, from the JSON API and the console alike: the
//! address read, the engine's action called (the link, the mail, the answer's link when no
//! mail service sends it).

use crate::{ApiError, AppState};
use leadrouter_engine::actions;
use leadrouter_store::portal::PartnerUser;

/// Invites `email` to the partner's portal; the link comes back when the operator must
/// hand it over (no mail service).
pub(crate) async fn invite(
    state: &AppState,
    partner_id: i64,
    email: &str,
    actor: &leadrouter_store::audit::Actor,
) -> Result<(PartnerUser, Option<String>), ApiError> {
    let email = email.trim().to_lowercase();
    if !email_address::EmailAddress::is_valid(&email) {
        return Err(ApiError::validation_one(
            "email",
            "must be an e-mail address",
        ));
    }
    Ok(actions::invite_partner_user(
        state.store(),
        state.signals(),
        state.mailing(),
        partner_id,
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
    partner_id: i64,
    user_id: i64,
    actor: &leadrouter_store::audit::Actor,
) -> Result<(PartnerUser, Option<String>), ApiError> {
    Ok(actions::reinvite_partner_user(
        state.store(),
        state.signals(),
        state.mailing(),
        partner_id,
        user_id,
        state.now_ms(),
        actor,
    )
    .await?)
}
