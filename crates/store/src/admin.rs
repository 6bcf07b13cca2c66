//! Operators: admin users (argon2id password hashes) and admin API tokens (SHA-256 hashes).

use crate::audit::{self, Actor, Change};
use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::role::Role;
use serde_json::{json, Value};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUser {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub timezone: String,
    pub role: Role,
    pub created_at: EpochMillis,
    pub last_login_at: Option<EpochMillis>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminToken {
    pub id: i64,
    pub name: String,
    pub token_prefix: String,
    pub created_at: EpochMillis,
    pub last_used_at: Option<EpochMillis>,
    pub expires_at: Option<EpochMillis>,
    pub revoked_at: Option<EpochMillis>,
}

/// `last_used_at` is refreshed at most this often, so that authenticated reads do not each
/// cost a write.
const TOKEN_TOUCH_INTERVAL_MS: i64 = 60_000;

const USER_COLUMNS: &str = "id, email, password_hash, timezone, role, created_at, last_login_at";

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<AdminUser, StoreError> {
    Ok(AdminUser {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        password_hash: r.try_get("password_hash")?,
        timezone: r.try_get("timezone")?,
        role: role_of(&r.try_get::<String, _>("role")?)?,
        created_at: r.try_get("created_at")?,
        last_login_at: r.try_get("last_login_at")?,
    })
}

impl Store {
    /// Creates an admin user; [`StoreError::Conflict`] if the e-mail is taken.
    pub async fn create_admin_user(
        &self,
        email: &str,
        password_hash: &str,
        role: Role,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let id = insert_admin(&mut tx, email, password_hash, role, now, actor).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Creates the first operator, once: the claim of the `first_run_setup` mark and the
    /// check that no operator exists are in the insert's transaction, so of any number of
    /// racing setups exactly one creates an operator (the others wait on the mark and find
    /// it taken). `None`: setup was done already.
    pub async fn create_first_admin_user(
        &self,
        email: &str,
        password_hash: &str,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let claimed = sqlx::query(
            "INSERT INTO job_state (name, value) VALUES ('first_run_setup', $1) \
             ON CONFLICT DO NOTHING",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let existing: i64 = sqlx::query("SELECT COUNT(*) AS n FROM admin_users")
            .fetch_one(&mut *tx)
            .await?
            .try_get("n")?;
        if claimed == 0 || existing > 0 {
            return Ok(None);
        }
        let id = insert_admin(&mut tx, email, password_hash, Role::Admin, now, actor).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    pub async fn admin_user_by_email(&self, email: &str) -> Result<Option<AdminUser>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM admin_users WHERE email = $1"
        ))
        .bind(email)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn admin_user(&self, id: i64) -> Result<Option<AdminUser>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM admin_users WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(self.reader())
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    pub async fn list_admin_users(&self) -> Result<Vec<AdminUser>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {USER_COLUMNS} FROM admin_users ORDER BY email"
        ))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn count_admin_users(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM admin_users")
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// Removes an operator and ends its sessions; the last operator cannot be removed
    /// ([`StoreError::Conflict`]).
    pub async fn delete_admin_user(
        &self,
        id: i64,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let email =
            audit::before_text(&mut tx, "SELECT email FROM admin_users WHERE id = $1", id).await?;
        if last_admin(&mut tx, id).await? {
            return Err(StoreError::Conflict("the last admin user".into()));
        }
        sqlx::query("DELETE FROM admin_sessions WHERE user_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("DELETE FROM admin_users WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let change =
            Change::new("delete", "user", Some(id)).field("email", json!(email), Value::Null);
        audit::commit_with(tx, actor, &change, now).await
    }

    /// Makes an operator an admin or a viewer. The last admin stays one: a console with
    /// only viewers could not be run.
    pub async fn set_admin_role(
        &self,
        id: i64,
        role: Role,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before =
            audit::before_text(&mut tx, "SELECT role FROM admin_users WHERE id = $1", id).await?;
        if role != Role::Admin && last_admin(&mut tx, id).await? {
            return Err(StoreError::Conflict("the last admin user".into()));
        }
        let done = sqlx::query("UPDATE admin_users SET role = $1 WHERE id = $2")
            .bind(role.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let change = Change::new("update", "user", Some(id)).field(
            "role",
            json!(before),
            json!(role.as_str()),
        );
        audit::commit_with(tx, actor, &change, now).await
    }

    pub async fn set_admin_password(
        &self,
        id: i64,
        password_hash: &str,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        sqlx::query("UPDATE admin_users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let change = Change::new("update", "user", Some(id)).secret("password");
        audit::commit_with(tx, actor, &change, now).await
    }

    pub async fn set_admin_timezone(
        &self,
        id: i64,
        timezone: &str,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let before = audit::before_text(
            &mut tx,
            "SELECT timezone FROM admin_users WHERE id = $1",
            id,
        )
        .await?;
        sqlx::query("UPDATE admin_users SET timezone = $1 WHERE id = $2")
            .bind(timezone)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let change = Change::new("update", "user", Some(id)).field(
            "timezone",
            json!(before),
            json!(timezone),
        );
        audit::commit_with(tx, actor, &change, now).await
    }

    pub async fn create_admin_token(
        &self,
        name: &str,
        token_hash: &str,
        token_prefix: &str,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        self.create_admin_token_until(name, token_hash, token_prefix, now, None, actor)
            .await
    }

    /// A token that stops working at `expires_at` (never, if `None`).
    pub async fn create_admin_token_until(
        &self,
        name: &str,
        token_hash: &str,
        token_prefix: &str,
        now: EpochMillis,
        expires_at: Option<EpochMillis>,
        actor: &Actor,
    ) -> Result<i64, StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let row = sqlx::query(
            "INSERT INTO admin_tokens (name, token_hash, token_prefix, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(token_hash)
        .bind(token_prefix)
        .bind(now)
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::on_unique("admin token"))?;
        let id: i64 = row.try_get(0)?;
        let change = Change::new("create", "token", Some(id))
            .field("name", Value::Null, json!(name))
            .field("expires_at", Value::Null, json!(expires_at))
            .secret("token");
        audit::record(&mut tx, actor, &change, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Every admin token, newest first, revoked and expired ones included.
    pub async fn list_admin_tokens(&self) -> Result<Vec<AdminToken>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, name, token_prefix, created_at, last_used_at, expires_at, revoked_at \
             FROM admin_tokens ORDER BY id DESC",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// The live (not revoked, not expired) token with this hash, recording that it was used.
    pub async fn use_admin_token(
        &self,
        token_hash: &str,
        now: EpochMillis,
    ) -> Result<Option<AdminToken>, StoreError> {
        let row = sqlx::query(
            "SELECT id, name, token_prefix, created_at, last_used_at, expires_at, revoked_at \
             FROM admin_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_optional(self.reader())
        .await?;
        let Some(r) = row else { return Ok(None) };
        let token = token_from_row(&r)?;
        if token
            .last_used_at
            .is_none_or(|t| now - t >= TOKEN_TOUCH_INTERVAL_MS)
        {
            sqlx::query("UPDATE admin_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(token.id)
                .execute(self.write(Priority::Background).await.pool())
                .await?;
        }
        Ok(Some(token))
    }

    pub async fn revoke_admin_token(
        &self,
        id: i64,
        now: EpochMillis,
        actor: &Actor,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(Priority::Background).await?;
        let done = sqlx::query(
            "UPDATE admin_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let change =
            Change::new("delete", "token", Some(id)).field("revoked_at", Value::Null, json!(now));
        audit::commit_with(tx, actor, &change, now).await
    }
}

fn token_from_row(r: &sqlx::any::AnyRow) -> Result<AdminToken, StoreError> {
    Ok(AdminToken {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        token_prefix: r.try_get(2)?,
        created_at: r.try_get(3)?,
        last_used_at: r.try_get(4)?,
        expires_at: r.try_get(5)?,
        revoked_at: r.try_get(6)?,
    })
}

/// An operator and its audit entry, on the caller's transaction.
async fn insert_admin(
    tx: &mut sqlx::AnyConnection,
    email: &str,
    password_hash: &str,
    role: Role,
    now: EpochMillis,
    actor: &Actor,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO admin_users (email, password_hash, role, created_at) \
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(email)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(StoreError::on_unique("admin user with this e-mail"))?;
    let id: i64 = row.try_get("id")?;
    let change = Change::new("create", "user", Some(id))
        .field("email", Value::Null, json!(email))
        .field("role", Value::Null, json!(role.as_str()))
        .secret("password");
    audit::record(tx, actor, &change, now).await?;
    Ok(id)
}

/// A stored role, parsed at the row.
pub(crate) fn role_of(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unknown operator role {s:?}")))
}

/// Whether `id` is an admin and no other operator is.
async fn last_admin(tx: &mut sqlx::AnyConnection, id: i64) -> Result<bool, StoreError> {
    let row = sqlx::query(
        "SELECT \
           (SELECT COUNT(*) FROM admin_users WHERE id = $1 AND role = 'admin') AS me, \
           (SELECT COUNT(*) FROM admin_users WHERE id <> $1 AND role = 'admin') AS others",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    Ok(row.try_get::<i64, _>("me")? > 0 && row.try_get::<i64, _>("others")? == 0)
}
