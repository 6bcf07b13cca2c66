//! Inviting people to a portal — a partner's (`/portal`) or a supplier's (`/supplier`):
//! a one-time link (72 hours) carried by a `portal_invite` or `supplier_invite` mail
//! written in the invitation's own transaction. The mail's stored text holds only a mark
//! where the link goes; the link itself is kept sealed beside it until the mail service
//! has it, and never listed. Without a mail service the link is not kept at all: it comes
//! back this once, for the operator to hand over.

use super::ActionError;
use crate::mail::{self, Mailing};
use crate::secrets;
use crate::signals::Signals;
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::notice::MailKind;
use leadrouter_core::token::hash_secret;
use leadrouter_store::audit::Actor;
use leadrouter_store::outbox::{Mail, Sending};
use leadrouter_store::portal::{Invitation, Member, NotInvited, Portal, Reinvitation};
use leadrouter_store::Store;

/// How long an invitation link works.
pub const INVITE_MS: i64 = 72 * 3_600_000;

/// The owner a portal's users belong to: its name, and the portal's words.
struct Owner {
    portal: Portal,
    id: i64,
    name: String,
}

impl Owner {
    async fn find(store: &Store, portal: Portal, id: i64) -> Result<Owner, ActionError> {
        let name = match portal {
            Portal::Partner => {
                store
                    .partner(id)
                    .await?
                    .ok_or(ActionError::NotFound("no such partner"))?
                    .spec
                    .name
            }
            Portal::Supplier => {
                store
                    .source(id)
                    .await?
                    .ok_or(ActionError::NotFound("no such source"))?
                    .spec
                    .name
            }
        };
        Ok(Owner { portal, id, name })
    }

    /// Where its portal lives.
    fn path(&self) -> &'static str {
        match self.portal {
            Portal::Partner => "/portal",
            Portal::Supplier => "/supplier",
        }
    }

    fn not_found(&self) -> ActionError {
        ActionError::NotFound(match self.portal {
            Portal::Partner => "no such partner",
            Portal::Supplier => "no such source",
        })
    }
}

/// A new link: its token (stored hashed) and the URL that carries it.
struct Link {
    token: String,
    url: String,
}

impl Link {
    fn new(mailing: &Mailing, owner: &Owner) -> Link {
        let token = secrets::random_token();
        let url = format!("{}{}/accept/{token}", mailing.ctx.public_url, owner.path());
        Link { token, url }
    }

    fn mail(&self, owner: &Owner, to: &str) -> impl Fn(i64) -> Mail {
        let (to, name, url) = (to.to_string(), owner.name.clone(), self.url.clone());
        let (kind, partner_id) = match owner.portal {
            Portal::Partner => (MailKind::PortalInvite, Some(owner.id)),
            Portal::Supplier => (MailKind::SupplierInvite, None),
        };
        // Each link its own mail (an invitation sent again is a new one).
        let n = hash_secret(&self.token)[..16].to_string();
        move |user_id: i64| {
            mail::invitation(
                kind,
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
    fn shown(self, mailing: &Mailing) -> Option<String> {
        (mailing.sending == Sending::Off).then_some(self.url)
    }
}

/// Invites `email` (already read as an address) to the portal of the partner or source
/// `owner_id`; the link comes back when the operator must hand it over.
#[allow(clippy::too_many_arguments)]
pub async fn invite_member(
    store: &Store,
    signals: &Signals,
    mailing: &Mailing,
    portal: Portal,
    owner_id: i64,
    email: &str,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(Member, Option<String>), ActionError> {
    let owner = Owner::find(store, portal, owner_id).await?;
    let link = Link::new(mailing, &owner);
    let made = store
        .invite_member(
            portal,
            Invitation {
                owner_id,
                email,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(&owner, email),
            now,
            actor,
        )
        .await?;
    signals.mail_queued();
    match made {
        Ok(u) => {
            tracing::info!(owner_id, user_id = u.id, portal = ?portal, "portal user invited");
            Ok((u, link.shown(mailing)))
        }
        Err(NotInvited::EmailTaken) => Err(ActionError::Conflict(
            "this e-mail address already has portal access".into(),
        )),
        Err(NotInvited::NoSuchOwner) => Err(owner.not_found()),
    }
}

/// A new invitation for a user who has not set a password yet; the old link stops
/// working.
#[allow(clippy::too_many_arguments)]
pub async fn reinvite_member(
    store: &Store,
    signals: &Signals,
    mailing: &Mailing,
    portal: Portal,
    owner_id: i64,
    user_id: i64,
    now: EpochMillis,
    actor: &Actor,
) -> Result<(Member, Option<String>), ActionError> {
    const NO_SUCH: &str = "no invited user of this account by that id";
    let owner = Owner::find(store, portal, owner_id).await?;
    let users = store.list_members(portal, owner_id).await?;
    let invited = users
        .iter()
        .find(|u| u.id == user_id && u.accepted_at.is_none())
        .ok_or(ActionError::NotFound(NO_SUCH))?;
    let link = Link::new(mailing, &owner);
    let u = store
        .reinvite_member(
            portal,
            Reinvitation {
                owner_id,
                user_id,
                invite_hash: &hash_secret(&link.token),
                expires_at: now + INVITE_MS,
            },
            &link.mail(&owner, &invited.email),
            now,
            actor,
        )
        .await?
        .ok_or(ActionError::NotFound(NO_SUCH))?;
    signals.mail_queued();
    tracing::info!(owner_id, user_id, portal = ?portal, "portal user invited again");
    Ok((u, link.shown(mailing)))
}
