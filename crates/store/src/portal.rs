//! The people of the two portals and their sessions: a partner's users (`/portal`) and a
//! supplier's (`/supplier`). A user belongs to one partner or one source, its owner; an
//! operator invites it (a one-time link, by e-mail through the outbox, in the same
//! transaction), the link sets its password, and its sessions carry the owner so that
//! every portal query is scoped by it. Removing a user ends its sessions in the same
//! transaction. Each portal has its own tables, so a session of one never passes for the
//! other.

use crate::outbox::Mail;
use crate::sessions::{Realm, SessionLimits};
use crate::{Priority, Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use sqlx::Row;

/// Which portal: a partner's or a supplier's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portal {
    Partner,
    Supplier,
}

impl Portal {
    fn users(self) -> &'static str {
        match self {
            Portal::Partner => "partner_users",
            Portal::Supplier => "supplier_users",
        }
    }

    fn sessions(self) -> &'static str {
        self.realm().table()
    }

    /// The column naming the owner, in the users' and the sessions' tables.
    fn owner(self) -> &'static str {
        match self {
            Portal::Partner => "partner_id",
            Portal::Supplier => "source_id",
        }
    }

    /// The owners' table (both keep deleted rows, marked `deleted_at`).
    fn owners(self) -> &'static str {
        match self {
            Portal::Partner => "partners",
            Portal::Supplier => "sources",
        }
    }

    /// The audit log's name for one of its users.
    fn entity(self) -> &'static str {
        match self {
            Portal::Partner => "partner_user",
            Portal::Supplier => "supplier_user",
        }
    }

    pub(crate) fn realm(self) -> Realm {
        match self {
            Portal::Partner => Realm::Portal,
            Portal::Supplier => Realm::Supplier,
        }
    }

    /// `SELECT`'s columns of a user, its owner named `owner_id`.
    fn user_columns(self) -> String {
        format!(
            "id, {} AS owner_id, email, accepted_at, invite_expires_at, last_login_at",
            self.owner()
        )
    }
}

/// A portal user as operators see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub id: i64,
    /// Its partner or source.
    pub owner_id: i64,
    pub email: String,
    /// Set once the invitation was accepted.
    pub accepted_at: Option<EpochMillis>,
    pub invite_expires_at: Option<EpochMillis>,
    pub last_login_at: Option<EpochMillis>,
}

/// What a login needs: the user, its owner and its password hash (none until accepted).
#[derive(Debug, Clone)]
pub struct MemberLogin {
    pub user_id: i64,
    pub owner_id: i64,
    pub password_hash: Option<String>,
}

/// A live portal session.
#[derive(Debug, Clone)]
pub struct PortalSession {
    pub user_id: i64,
    pub owner_id: i64,
    pub email: String,
    pub csrf_token: String,
    pub last_seen_at: EpochMillis,
}

/// An invitation to write: who, for which owner, the link's hash and its expiry.
#[derive(Debug, Clone, Copy)]
pub struct Invitation<'a> {
    pub owner_id: i64,
    pub email: &'a str,
    pub invite_hash: &'a str,
    pub expires_at: EpochMillis,
}

/// A new link for a user already invited: which user, the link's hash and its expiry.
#[derive(Debug, Clone, Copy)]
pub struct Reinvitation<'a> {
    pub owner_id: i64,
    pub user_id: i64,
    pub invite_hash: &'a str,
    pub expires_at: EpochMillis,
}

/// Why an invitation was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotInvited {
    /// The address already belongs to a user of this portal (of this owner or another).
    EmailTaken,
    /// No such partner or source (or it was deleted).
    NoSuchOwner,
}

fn member(r: &sqlx::any::AnyRow) -> Result<Member, StoreError> {
    Ok(Member {
        id: r.try_get("id")?,
        owner_id: r.try_get("owner_id")?,
        email: r.try_get("email")?,
        accepted_at: r.try_get("accepted_at")?,
        invite_expires_at: r.try_get("invite_expires_at")?,
        last_login_at: r.try_get("last_login_at")?,
    })
}

impl Store {
    /// Invites `email` to the owner's portal: the user, with the invitation's hash and
    /// expiry, and the mail `invite(user_id)` writes, in one transaction.
    pub async fn invite_member(
        &self,
        portal: Portal,
        inv: Invitation<'_>,
        invite: &(dyn Fn(i64) -> Mail + Send + Sync),
        now: EpochMillis,
        actor: &crate::audit::Actor,
    ) -> Result<Result<Member, NotInvited>, StoreError> {
        let (users, owner, owners) = (portal.users(), portal.owner(), portal.owners());
        let mut tx = self.begin(Priority::Background).await?;
        let live = sqlx::query(&format!(
            "SELECT id FROM {owners} WHERE id = $1 AND deleted_at IS NULL"
        ))
        .bind(inv.owner_id)
        .fetch_optional(&mut *tx)
        .await?;
        if live.is_none() {
            return Ok(Err(NotInvited::NoSuchOwner));
        }
        let row = sqlx::query(&format!(
            "INSERT INTO {users} ({owner}, email, invite_hash, invite_expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING {}",
            portal.user_columns()
        ))
        .bind(inv.owner_id)
        .bind(inv.email)
        .bind(inv.invite_hash)
        .bind(inv.expires_at)
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            return Ok(Err(NotInvited::EmailTaken));
        };
        let u = member(&row)?;
        self.queue_mails(&mut tx, &[invite(u.id)], now).await?;
        let change = crate::audit::Change::new("create", portal.entity(), Some(u.id))
            .field(owner, serde_json::Value::Null, inv.owner_id.into())
            .field("email", serde_json::Value::Null, inv.email.into());
        crate::audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(Ok(u))
    }

    /// A new invitation for a user of the owner who has not set a password yet: the new
    /// link's hash replaces the old one (which then opens nothing), with the mail
    /// `invite(user_id)` writes, in one transaction. `None`: no such invited user.
    pub async fn reinvite_member(
        &self,
        portal: Portal,
        again: Reinvitation<'_>,
        invite: &(dyn Fn(i64) -> Mail + Send + Sync),
        now: EpochMillis,
        actor: &crate::audit::Actor,
    ) -> Result<Option<Member>, StoreError> {
        let (users, owner, owners) = (portal.users(), portal.owner(), portal.owners());
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(&format!(
            "UPDATE {users} SET invite_hash = $1, invite_expires_at = $2 \
             WHERE id = $3 AND {owner} = $4 AND accepted_at IS NULL \
             AND {owner} IN (SELECT id FROM {owners} WHERE deleted_at IS NULL) \
             RETURNING {}",
            portal.user_columns()
        ))
        .bind(again.invite_hash)
        .bind(again.expires_at)
        .bind(again.user_id)
        .bind(again.owner_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let u = member(&row)?;
        self.queue_mails(&mut tx, &[invite(u.id)], now).await?;
        let change =
            crate::audit::Change::new("reinvite", portal.entity(), Some(u.id)).secret("invitation");
        crate::audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(Some(u))
    }

    /// The owner's portal users, oldest first.
    pub async fn list_members(
        &self,
        portal: Portal,
        owner_id: i64,
    ) -> Result<Vec<Member>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {} FROM {} WHERE {} = $1 ORDER BY id",
            portal.user_columns(),
            portal.users(),
            portal.owner()
        ))
        .bind(owner_id)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(member).collect()
    }

    /// Removes an owner's user and ends its sessions; `false` if it is not this owner's.
    pub async fn remove_member(
        &self,
        portal: Portal,
        owner_id: i64,
        user_id: i64,
        now: EpochMillis,
        actor: &crate::audit::Actor,
    ) -> Result<bool, StoreError> {
        let (users, owner, sessions) = (portal.users(), portal.owner(), portal.sessions());
        let mut tx = self.begin(Priority::Background).await?;
        let email: Option<String> = sqlx::query(&format!(
            "SELECT email FROM {users} WHERE id = $1 AND {owner} = $2"
        ))
        .bind(user_id)
        .bind(owner_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get(0))
        .transpose()?;
        sqlx::query(&format!(
            "DELETE FROM {sessions} WHERE user_id = $1 AND {owner} = $2"
        ))
        .bind(user_id)
        .bind(owner_id)
        .execute(&mut *tx)
        .await?;
        let gone = sqlx::query(&format!(
            "DELETE FROM {users} WHERE id = $1 AND {owner} = $2"
        ))
        .bind(user_id)
        .bind(owner_id)
        .execute(&mut *tx)
        .await?;
        if gone.rows_affected() == 1 {
            let change = crate::audit::Change::new("delete", portal.entity(), Some(user_id))
                .field(owner, owner_id.into(), serde_json::Value::Null)
                .field("email", email.into(), serde_json::Value::Null);
            crate::audit::record(&mut tx, actor, &change, now).await?;
        }
        tx.commit().await?;
        Ok(gone.rows_affected() == 1)
    }

    /// Sets the password of the user invited with this hash while the invitation is
    /// valid, and uses the invitation up. `(user_id, owner_id)` of that user.
    pub async fn accept_invite(
        &self,
        portal: Portal,
        invite_hash: &str,
        password_hash: &str,
        now: EpochMillis,
    ) -> Result<Option<(i64, i64)>, StoreError> {
        let row = sqlx::query(&format!(
            "UPDATE {} SET password_hash = $1, invite_hash = NULL, \
             invite_expires_at = NULL, accepted_at = $2 \
             WHERE invite_hash = $3 AND invite_expires_at > $2 RETURNING id, {} AS owner_id",
            portal.users(),
            portal.owner()
        ))
        .bind(password_hash)
        .bind(now)
        .bind(invite_hash)
        .fetch_optional(self.write(Priority::Background).await.pool())
        .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("owner_id")?)))
            .transpose()
    }

    /// Whether an invitation with this hash is still valid.
    pub async fn invite_valid(
        &self,
        portal: Portal,
        invite_hash: &str,
        now: EpochMillis,
    ) -> Result<bool, StoreError> {
        Ok(sqlx::query(&format!(
            "SELECT id FROM {} WHERE invite_hash = $1 AND invite_expires_at > $2",
            portal.users()
        ))
        .bind(invite_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?
        .is_some())
    }

    /// The user who logs in with this e-mail, of an owner that still exists.
    pub async fn member_login(
        &self,
        portal: Portal,
        email: &str,
    ) -> Result<Option<MemberLogin>, StoreError> {
        let (users, owner, owners) = (portal.users(), portal.owner(), portal.owners());
        let row = sqlx::query(&format!(
            "SELECT u.id, u.{owner} AS owner_id, u.password_hash FROM {users} u \
             JOIN {owners} o ON o.id = u.{owner} WHERE u.email = $1 AND o.deleted_at IS NULL"
        ))
        .bind(email)
        .fetch_optional(self.reader())
        .await?;
        row.map(|r| {
            Ok(MemberLogin {
                user_id: r.try_get("id")?,
                owner_id: r.try_get("owner_id")?,
                password_hash: r.try_get("password_hash")?,
            })
        })
        .transpose()
    }

    pub async fn create_portal_session(
        &self,
        portal: Portal,
        id_hash: &str,
        login: &MemberLogin,
        csrf_token: &str,
        now: EpochMillis,
        limits: SessionLimits,
    ) -> Result<(), StoreError> {
        let (users, owner, sessions) = (portal.users(), portal.owner(), portal.sessions());
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query(&format!(
            "INSERT INTO {sessions} (id_hash, user_id, {owner}, csrf_token, created_at, \
             last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $5, $6)"
        ))
        .bind(id_hash)
        .bind(login.user_id)
        .bind(login.owner_id)
        .bind(csrf_token)
        .bind(now)
        .bind(now + limits.absolute_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(&format!(
            "UPDATE {users} SET last_login_at = $1 WHERE id = $2"
        ))
        .bind(now)
        .bind(login.user_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The live portal session with this id hash (its user still there, its owner not
    /// deleted), refreshing its last use now and then.
    pub async fn live_portal_session(
        &self,
        portal: Portal,
        id_hash: &str,
        now: EpochMillis,
        limits: SessionLimits,
    ) -> Result<Option<PortalSession>, StoreError> {
        let (users, owner, owners, sessions) = (
            portal.users(),
            portal.owner(),
            portal.owners(),
            portal.sessions(),
        );
        let row = sqlx::query(&format!(
            "SELECT s.user_id, s.{owner} AS owner_id, u.email, s.csrf_token, s.last_seen_at \
             FROM {sessions} s JOIN {users} u ON u.id = s.user_id \
             AND u.{owner} = s.{owner} JOIN {owners} o ON o.id = s.{owner} \
             WHERE s.id_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 \
             AND o.deleted_at IS NULL"
        ))
        .bind(id_hash)
        .bind(now)
        .bind(now - limits.idle_ms)
        .fetch_optional(self.reader())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let s = PortalSession {
            user_id: r.try_get("user_id")?,
            owner_id: r.try_get("owner_id")?,
            email: r.try_get("email")?,
            csrf_token: r.try_get("csrf_token")?,
            last_seen_at: r.try_get("last_seen_at")?,
        };
        self.touch_session(portal.realm(), id_hash, s.last_seen_at, now)
            .await?;
        Ok(Some(s))
    }

    pub async fn end_portal_session(
        &self,
        portal: Portal,
        id_hash: &str,
    ) -> Result<(), StoreError> {
        self.delete_session(portal.realm(), id_hash).await
    }
}
