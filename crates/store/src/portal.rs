//! Partner users and their portal sessions. A user belongs to one partner; an operator
//! invites it (a one-time link, by e-mail through the outbox, in the same transaction), the
//! link sets its password, and its sessions carry the partner so that every portal query
//! is scoped by it. Removing a user ends its sessions in the same transaction.

use crate::outbox::Mail;
use crate::sessions::{Realm, SessionLimits};
use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

/// A partner user as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerUser {
    pub id: i64,
    pub partner_id: i64,
    pub email: String,
    /// Set once the invitation was accepted.
    pub accepted_at: Option<EpochMillis>,
    pub invite_expires_at: Option<EpochMillis>,
    pub last_login_at: Option<EpochMillis>,
}

/// What a login needs: the user, its partner and its password hash (none until accepted).
#[derive(Debug, Clone)]
pub struct PartnerLogin {
    pub user_id: i64,
    pub partner_id: i64,
    pub password_hash: Option<String>,
}

/// A live portal session.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub user_id: i64,
    pub partner_id: i64,
    pub email: String,
    pub csrf_token: String,
    pub last_seen_at: EpochMillis,
}

/// An invitation to write: who, for which partner, the link's hash and its expiry.
#[derive(Debug, Clone, Copy)]
pub struct Invitation<'a> {
    pub partner_id: i64,
    pub email: &'a str,
    pub invite_hash: &'a str,
    pub expires_at: EpochMillis,
}

/// A new link for a user already invited: which user, the link's hash and its expiry.
#[derive(Debug, Clone, Copy)]
pub struct Reinvitation<'a> {
    pub partner_id: i64,
    pub user_id: i64,
    pub invite_hash: &'a str,
    pub expires_at: EpochMillis,
}

/// Why an invitation was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotInvited {
    /// The address already belongs to a user (of this partner or another).
    EmailTaken,
    NoSuchPartner,
}

fn user(r: &sqlx::any::AnyRow) -> Result<PartnerUser, StoreError> {
    Ok(PartnerUser {
        id: r.try_get("id")?,
        partner_id: r.try_get("partner_id")?,
        email: r.try_get("email")?,
        accepted_at: r.try_get("accepted_at")?,
        invite_expires_at: r.try_get("invite_expires_at")?,
        last_login_at: r.try_get("last_login_at")?,
    })
}

const USER_COLUMNS: &str = "id, partner_id, email, accepted_at, invite_expires_at, last_login_at";

impl Store {
    /// Invites `email` to `partner_id`'s portal: the user, with the invitation's hash and
    /// expiry, and the mail `invite(user_id)` writes, in one transaction.
    pub async fn invite_partner_user(
        &self,
        inv: Invitation<'_>,
        invite: &(dyn Fn(i64) -> Mail + Send + Sync),
        now: EpochMillis,
        actor: &crate::audit::Actor,
    ) -> Result<Result<PartnerUser, NotInvited>, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let live = sqlx::query("SELECT id FROM partners WHERE id = $1 AND deleted_at IS NULL")
            .bind(inv.partner_id)
            .fetch_optional(&mut *tx)
            .await?;
        if live.is_none() {
            return Ok(Err(NotInvited::NoSuchPartner));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO partner_users (partner_id, email, invite_hash, invite_expires_at, \
             created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(inv.partner_id)
        .bind(inv.email)
        .bind(inv.invite_hash)
        .bind(inv.expires_at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(NotInvited::EmailTaken));
        };
        let u = user(&row)?;
        self.queue_mails(&mut tx, &[invite(u.id)], now).await?;
        let change = crate::audit::Change::new("create", "partner_user", Some(u.id))
            .field("partner_id", serde_json::Value::Null, inv.partner_id.into())
            .field("email", serde_json::Value::Null, inv.email.into());
        crate::audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(Ok(u))
    }

    /// A new invitation for a user of `partner_id` who has not set a password yet: the
    /// new link's hash replaces the old one (which then opens nothing), with the mail
    /// `invite(user_id)` writes, in one transaction. `None`: no such invited user.
    pub async fn reinvite_partner_user(
        &self,
        again: Reinvitation<'_>,
        invite: &(dyn Fn(i64) -> Mail + Send + Sync),
        now: EpochMillis,
        actor: &crate::audit::Actor,
    ) -> Result<Option<PartnerUser>, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(&format!(
            "UPDATE partner_users SET invite_hash = $1, invite_expires_at = $2 \
             WHERE id = $3 AND partner_id = $4 AND accepted_at IS NULL \
             AND partner_id IN (SELECT id FROM partners WHERE deleted_at IS NULL) \
             RETURNING {USER_COLUMNS}"
        ))
        .bind(again.invite_hash)
        .bind(again.expires_at)
        .bind(again.user_id)
        .bind(again.partner_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let u = user(&row)?;
        self.queue_mails(&mut tx, &[invite(u.id)], now).await?;
        let change =
            crate::audit::Change::new("reinvite", "partner_user", Some(u.id)).secret("invitation");
        crate::audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(Some(u))
    }

    pub async fn list_partner_users(
        &self,
        partner_id: i64,
    ) -> Result<Vec<PartnerUser>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM partner_users WHERE partner_id = $1 ORDER BY id"
        ))
        .bind(partner_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(user).collect()
    }

    /// Removes a partner's user and ends its sessions; `false` if it is not this partner's.
    pub async fn remove_partner_user(
        &self,
        partner_id: i64,
        user_id: i64,
        now: EpochMillis,
        actor: &crate::audit::Actor,
    ) -> Result<bool, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let email: Option<String> =
            sqlx::query("SELECT email FROM partner_users WHERE id = $1 AND partner_id = $2")
                .bind(user_id)
                .bind(partner_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get(0))
                .transpose()?;
        sqlx::query("DELETE FROM partner_sessions WHERE user_id = $1 AND partner_id = $2")
            .bind(user_id)
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        let gone = sqlx::query("DELETE FROM partner_users WHERE id = $1 AND partner_id = $2")
            .bind(user_id)
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        if gone.rows_affected() == 1 {
            let change = crate::audit::Change::new("delete", "partner_user", Some(user_id))
                .field("partner_id", partner_id.into(), serde_json::Value::Null)
                .field("email", email.into(), serde_json::Value::Null);
            crate::audit::record(&mut tx, actor, &change, now).await?;
        }
        tx.commit().await?;
        Ok(gone.rows_affected() == 1)
    }

    /// Sets the password of the user invited with this hash while the invitation is
    /// valid, and uses the invitation up. `(user_id, partner_id)` of that user.
    pub async fn accept_invite(
        &self,
        invite_hash: &str,
        password_hash: &str,
        now: EpochMillis,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query(
            "UPDATE partner_users SET password_hash = $1, invite_hash = NULL, \
             invite_expires_at = NULL, accepted_at = $2 \
             WHERE invite_hash = $3 AND invite_expires_at > $2 RETURNING id, partner_id",
        )
        .bind(password_hash)
        .bind(now)
        .bind(invite_hash)
        .fetch_optional(self.write(Priority::Background).await.pool())
        .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("partner_id")?)))
            .transpose()
    }

    /// Whether an invitation with this hash is still valid.
    pub async fn invite_valid(
        &self,
        invite_hash: &str,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(
            "SELECT id FROM partner_users WHERE invite_hash = $1 AND invite_expires_at > $2",
        )
        .bind(invite_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?
        .is_some())
    }

    /// The user who logs in with this e-mail, of a partner that still exists.
    pub async fn partner_login(&self, email: &str) -> Result<Option<PartnerLogin>, StoreError> {
        let row = sqlx::query(
            "SELECT u.id, u.partner_id, u.password_hash FROM partner_users u \
             JOIN partners p ON p.id = u.partner_id WHERE u.email = $1 AND p.deleted_at IS NULL",
        )
        .bind(email)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(PartnerLogin {
                user_id: r.try_get("id")?,
                partner_id: r.try_get("partner_id")?,
                password_hash: r.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    pub async fn create_portal_session(
        &self,
        id_hash: &str,
        login: &PartnerLogin,
        csrf_token: &str,
        now: EpochMillis,
        limits: SessionLimits,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query(
            "INSERT INTO partner_sessions (id_hash, user_id, partner_id, csrf_token, created_at, \
             last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)",
        )
        .bind(id_hash)
        .bind(login.user_id)
        .bind(login.partner_id)
        .bind(csrf_token)
        .bind(now)
        .bind(now + limits.absolute_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE partner_users SET last_login_at = $1 WHERE id = $2")
            .bind(now)
            .bind(login.user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live portal session with this id hash (its user still there, its partner not
    /// deleted), refreshing its last use now and then.
    pub async fn live_portal_session(
        &self,
        id_hash: &str,
        now: EpochMillis,
        limits: SessionLimits,
    ) -> Result<Option<PortalSession>, StoreError> {
        let row = sqlx::query(
            "SELECT s.user_id, s.partner_id, u.email, s.csrf_token, s.last_seen_at \
             FROM partner_sessions s JOIN partner_users u ON u.id = s.user_id \
             AND u.partner_id = s.partner_id JOIN partners p ON p.id = s.partner_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 \
             AND p.deleted_at IS NULL",
        )
        .bind(id_hash)
        .bind(now)
        .bind(now - limits.idle_ms)
        .fetch_optional(self.reader())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let s = PortalSession {
            user_id: r.try_get("user_id")?,
            partner_id: r.try_get("partner_id")?,
            email: r.try_get("email")?,
            csrf_token: r.try_get("csrf_token")?,
            last_seen_at: r.try_get("last_seen_at")?,
        };
        self.touch_session(Realm::Portal, id_hash, s.last_seen_at, now)
            .await?;
        Ok(Some(s))
    }

    pub async fn end_portal_session(&self, id_hash: &str) -> Result<(), StoreError> {
        self.delete_session(Realm::Portal, id_hash).await
    }
}
