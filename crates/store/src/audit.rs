//! The audit trail: who changed what, written by the change's own transaction (so there is
//! no change without its entry, and no entry for a change that did not happen).

use crate::json::to_text;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use serde_json::{Map, Value};
use sqlx::{AnyConnection, Row};

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `user` (a console session), `token` (an admin API token) or `system` (the
    /// server itself, e.g. pausing a failing partner).
    pub kind: &'static str,
    pub id: Option<i64>,
    /// The user's e-mail or the token's name, as they were then.
    pub name: String,
}

impl Actor {
    pub fn user(id: i64, email: &str) -> Actor {
        Actor {
            kind: "user",
            id: Some(id),
            name: email.to_string(),
        }
    }

    pub fn token(id: i64, name: &str) -> Actor {
        Actor {
            kind: "token",
            id: Some(id),
            name: name.to_string(),
        }
    }

    /// A partner's portal user (rotating its own signing secret).
    pub fn partner_user(id: i64, email: &str) -> Actor {
        Actor {
            kind: "partner_user",
            id: Some(id),
            name: email.to_string(),
        }
    }

    /// The server itself (`why` names the rule, e.g. "failure streak").
    pub fn system(why: &str) -> Actor {
        Actor {
            kind: "system",
            id: None,
            name: why.to_string(),
        }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: Option<i64>,
    pub changes: Map<String, Value>,
    /// A partner's settings before the change (for revert), never a secret.
    pub before: Option<Map<String, Value>>,
}

impl Change {
    pub fn new(action: &'static str, entity: &'static str, entity_id: Option<i64>) -> Change {
        Change {
            action,
            entity,
            entity_id,
            changes: Map::new(),
            before: None,
        }
    }

    pub fn with(mut self, changes: Map<String, Value>) -> Change {
        self.changes = changes;
        self
    }

    /// Adds `{"field": {"before", "after"}}`.
    pub fn field(mut self, name: &str, before: Value, after: Value) -> Change {
        self.changes.insert(
            name.to_string(),
            serde_json::json!({"before": before, "after": after}),
        );
        self
    }

    /// Adds `{"field": {"changed": true}}` (a secret).
    pub fn secret(mut self, name: &str) -> Change {
        self.changes
            .insert(name.to_string(), leadrouter_core::audit::secret_changed());
        self
    }
}

/// A text column of the row with this id, as it is before a change (`sql` selects it with
/// `$1` for the id); `None` when the row or the value is missing.
pub(crate) async fn before_text(
    conn: &mut AnyConnection,
    sql: &str,
    id: i64,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(sql).bind(id).fetch_optional(&mut *conn).await?;
    Ok(row
        .map(|r| r.try_get::<Option<String>, _>(0))
        .transpose()?
        .flatten())
}

/// Writes the entry on the change's own connection (inside its transaction). A save that
/// changed no field is no change: an `update` without changes leaves no entry.
pub(crate) async fn record(
    conn: &mut AnyConnection,
    actor: &Actor,
    change: &Change,
    now: EpochMillis,
) -> Result<(), StoreError> {
    if change.action == "update" && change.changes.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, action, entity, \
         entity_id, changes, before) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(now)
    .bind(actor.kind)
    .bind(actor.id)
    .bind(&actor.name)
    .bind(change.action)
    .bind(change.entity)
    .bind(change.entity_id)
    .bind(to_text(&change.changes))
    .bind(change.before.as_ref().map(to_text))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records the entry and commits the change's transaction.
pub(crate) async fn commit_with(
    mut tx: crate::gate::WriteTx<'_>,
    actor: &Actor,
    change: &Change,
    now: EpochMillis,
) -> Result<(), StoreError> {
    record(&mut tx, actor, change, now).await?;
    tx.commit().await?;
    Ok(())
}

/// An entry as listed.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: i64,
    pub at: EpochMillis,
    pub actor: Actor,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub changes: Value,
    pub before: Option<Value>,
}

/// Which entries (all optional), newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub entity: Option<String>,
    pub entity_id: Option<i64>,
    pub action: Option<String>,
    pub limit: i64,
    /// The id to continue after (exclusive).
    pub before: Option<i64>,
}

fn kind(k: &str) -> &'static str {
    match k {
        "user" => "user",
        "token" => "token",
        "partner_user" => "partner_user",
        _ => "system",
    }
}

fn entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry, StoreError> {
    let changes: String = r.try_get("changes")?;
    let before: Option<String> = r.try_get("before")?;
    let actor_kind: String = r.try_get("actor_kind")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: Actor {
            kind: kind(&actor_kind),
            id: r.try_get("actor_id")?,
            name: r.try_get("actor_name")?,
        },
        action: r.try_get("action")?,
        entity: r.try_get("entity")?,
        entity_id: r.try_get("entity_id")?,
        changes: crate::json::from_text("changes", &changes)?,
        before: before
            .map(|b| crate::json::from_text("before", &b))
            .transpose()?,
    })
}

const COLUMNS: &str =
    "id, at, actor_kind, actor_id, actor_name, action, entity, entity_id, changes, before";

impl Store {
    pub async fn audit_entries(&self, f: &AuditFilter) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE id < $1 \
             AND ($2 IS NULL OR entity = $2) AND ($3 IS NULL OR entity_id = $3) \
             AND ($4 IS NULL OR action = $4) ORDER BY id DESC LIMIT $5"
        ))
        .bind(f.before.unwrap_or(i64::MAX))
        .bind(f.entity.as_deref())
        .bind(f.entity_id)
        .bind(f.action.as_deref())
        .bind(f.limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(entry).collect()
    }

    pub async fn audit_entry(&self, id: i64) -> Result<Option<AuditEntry>, StoreError> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM audit_log WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.reader())
            .await?;
        row.as_ref().map(entry).transpose()
    }

    /// Records a change that has no transaction of its own here (an erasure's summary).
    pub async fn record_audit(
        &self,
        actor: &Actor,
        change: &Change,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin(crate::Priority::Background).await?;
        record(&mut tx, actor, change, now).await?;
        tx.commit().await?;
        Ok(())
    }
}
