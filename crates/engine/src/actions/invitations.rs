//! Inviting a partner's people to its portal: a one-time link (72 hours) carried by a
//! `portal_invite` mail written in the invitation's own transaction. The mail's stored text
//! holds only a mark where the link goes; the link itself is kept sealed beside it until
//! the mail service has it, and never listed. Without a mail service the link is not kept
//! at all: it comes back this once, for the operator to hand over.

use super::ActionError;
use crate::mail::{self, Mailing};
use crate::secrets;
use crate::signals::Signals;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::token::hash_secret;
use leadrouter_store::audit::Actor;
use leadrouter_store::outbox::{Mail, Sending};
use leadrouter_store::portal::{Invitation, NotInvited, PartnerUser, Reinvitation};
use leadrouter_store::Store;

/// How long an invitation link works.
pub const INVITE_MS: i64 = 72 * 3_600_000;

/// A new link: its token (stored hashed) and the URL that carries it.
struct Link {
    token: String,
    url: String,
}

impl Link {
    fn new(mailing: &Mailing) -> Link {
        let token = secrets::random_token();
        let url = format!("{}/portal/accept/{token}", mailing.ctx.public_url);
        Link { token, url }
    }

    fn mail(&self, partner_id: i64, to: &str, name: &str) -> impl Fn(i64) -> Mail {
        let (to, name, url) = (to.to_string(), name.to_string(), self.url.clone());
        // Each link its own mail (an invitation sent again is a new one).
        let n = hash_secret(&self.token)[..16].to_string();
        move |user_id: i64| {
            mail::portal_invite(partner_id, &name, to.clone(), user_id, &n, url.clone())
        }
    }

    /// The link for the operator: only when no mail service sends it.
    fn shown(self, mailing: &Mailing) -> Option<String> {
        (mailing.sending == Sending::Off).then_some(self.url)
    }
}

/// Invites `email` (already read as an address) to the partner's portal; the link comes
/// back when the operator must hand it over.
pub async fn invite_partner_user(
    store: &Store,
    signals: &Signals,
    mailing: &Mailing,
    partner_id: i64,
    email: &str,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(PartnerUser, Option<String>), ActionError> {
    let partner = store
        .partner(partner_id)
        .await?
        .ok_or(ActionError::NotFound("no such partner"))?;
    let link = Link::new(mailing);
    let made = store
        .invite_partner_user(
            Invitation {
                partner_id,
                email,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(partner_id, email, &partner.spec.name),
            now,
            actor,
        )
        .await?;
    signals.mail_queued();
    match made {
        Ok(u) => {
            tracing::info!(partner_id, user_id = u.id, "partner user invited");
            Ok((u, link.shown(mailing)))
        }
        Err(NotInvited::EmailTaken) => Err(ActionError::Conflict(
            "this e-mail address already has portal access".into(),
        )),
        Err(NotInvited::NoSuchPartner) => Err(ActionError::NotFound("no such partner")),
    }
}

/// A new invitation for a user who has not set a password yet; the old link stops
/// working.
pub async fn reinvite_partner_user(
    store: &Store,
    signals: &Signals,
    mailing: &Mailing,
    partner_id: i64,
    user_id: i64,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(PartnerUser, Option<String>), ActionError> {
    const NO_SUCH: &str = "no invited user of this partner by that id";
    let partner = store
        .partner(partner_id)
        .await?
        .ok_or(ActionError::NotFound("no such partner"))?;
    let users = store.list_partner_users(partner_id).await?;
    let invited = users
        .iter()
        .find(|u| u.id == user_id && u.accepted_at.is_none())
        .ok_or(ActionError::NotFound(NO_SUCH))?;
    let link = Link::new(mailing);
    let u = store
        .reinvite_partner_user(
            Reinvitation {
                partner_id,
                user_id,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(partner_id, &invited.email, &partner.spec.name),
            now,
            actor,
        )
        .await?
        .ok_or(ActionError::NotFound(NO_SUCH))?;
    signals.mail_queued();
    tracing::info!(partner_id, user_id, "partner user invited again");
    Ok((u, link.shown(mailing)))
}
