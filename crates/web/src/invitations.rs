//! Inviting a partner's people to its portal, from the JSON API and the console alike: a
//! one-time link (72 hours), carried by a `portal_invite` mail written in the same
//! transaction; without a mail service the link is answered this once to the operator, to
//! hand over.

use crate::{ApiError, AppState};
use leadrouter_core::token::hash_secret;
use leadrouter_store::outbox::{Mail, Sending};
use leadrouter_store::portal::{Invitation, NotInvited, PartnerUser, Reinvitation};

/// How long an invitation link works.
pub(crate) const INVITE_MS: i64 = 72 * 3_600_000;

/// A new invitation link and the `portal_invite` mail that carries it. The mail's stored
/// text holds only a mark where the link goes; the link itself is kept sealed beside it
/// until the mail service has it, and never listed. Without a mail service the link is
/// not kept at all: it is answered this once to the operator who invited, to hand over.
struct Link {
    token: String,
    url: String,
}

impl Link {
    fn new(state: &AppState) -> Link {
        let token = crate::secrets::random_token();
        let url = format!("{}/portal/accept/{token}", state.settings().public_url);
        Link { token, url }
    }

    fn mail(&self, partner_id: i64, to: &str, name: &str) -> impl Fn(i64) -> Mail {
        let (to, name, url) = (to.to_string(), name.to_string(), self.url.clone());
        // Each link its own mail (an invitation sent again is a new one).
        let n = hash_secret(&self.token)[..16].to_string();
        move |user_id: i64| {
            leadrouter_engine::mail::portal_invite(
                partner_id,
                &name,
                to.clone(),
                user_id,
                &n,
                url.clone(),
            )
        }
    }

    /// The link for the operator: only when no mail service sends it.
    fn shown(self, state: &AppState) -> Option<String> {
        (state.mailing().sending == Sending::Off).then_some(self.url)
    }
}

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
    let partner = state
        .store()
        .partner(partner_id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))?;
    let link = Link::new(state);
    let now = state.now_ms();
    let made = state
        .store()
        .invite_partner_user(
            Invitation {
                partner_id,
                email: &email,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(partner_id, &email, &partner.spec.name),
            state.mailing().sending,
            now,
            actor,
        )
        .await?;
    state.signals().mail_queued();
    match made {
        Ok(u) => {
            tracing::info!(partner_id, user_id = u.id, "partner user invited");
            Ok((u, link.shown(state)))
        }
        Err(NotInvited::EmailTaken) => Err(ApiError::Conflict(
            "this e-mail address already has portal access".into(),
        )),
        Err(NotInvited::NoSuchPartner) => Err(ApiError::NotFound("no such partner")),
    }
}

/// A new invitation for a user who has not set a password yet; the old link stops
/// working.
pub(crate) async fn reinvite(
    state: &AppState,
    partner_id: i64,
    user_id: i64,
    actor: &leadrouter_store::audit::Actor,
) -> Result<(PartnerUser, Option<String>), ApiError> {
    let partner = state
        .store()
        .partner(partner_id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))?;
    let users = state.store().list_partner_users(partner_id).await?;
    let invited = users
        .iter()
        .find(|u| u.id == user_id && u.accepted_at.is_none())
        .ok_or(ApiError::NotFound(
            "no invited user of this partner by that id",
        ))?;
    let link = Link::new(state);
    let now = state.now_ms();
    let u = state
        .store()
        .reinvite_partner_user(
            Reinvitation {
                partner_id,
                user_id,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(partner_id, &invited.email, &partner.spec.name),
            state.mailing().sending,
            now,
            actor,
        )
        .await?
        .ok_or(ApiError::NotFound(
            "no invited user of this partner by that id",
        ))?;
    state.signals().mail_queued();
    tracing::info!(partner_id, user_id, "partner user invited again");
    Ok((u, link.shown(state)))
}
