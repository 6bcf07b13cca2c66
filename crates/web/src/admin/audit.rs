//! The audit trail in the admin API: `GET /api/admin/audit` and
//! `POST /api/admin/partners/{id}/revert`.

use crate::auth::AdminAuth;
use crate::extract::{JsonObject, PathId};
use crate::partners::{one, update_partner, PartnerAnswer};
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_core::localtime::rfc3339;
use leadrouter_engine::actions;
use leadrouter_store::audit::{Actor, AuditEntry, AuditFilter};
use leadrouter_store::partners::PartnerStatus;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/audit", get(list))
        .route("/api/admin/partners/{id}/revert", post(revert))
}

#[derive(Deserialize, Default)]
pub(crate) struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub action: Option<String>,
    pub limit: Option<String>,
    pub before: Option<String>,
}

fn opt(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn id_of(name: &str, s: &Option<String>) -> Result<Option<i64>, ApiError> {
    opt(s)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::validation_one(name, "must be a whole number"))
        })
        .transpose()
}

impl AuditQuery {
    pub(crate) fn filter(&self) -> Result<AuditFilter, ApiError> {
        let limit = id_of("limit", &self.limit)?.unwrap_or(100);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::validation_one("limit", "must be 1..500"));
        }
        Ok(AuditFilter {
            entity: opt(&self.entity),
            entity_id: id_of("entity_id", &self.entity_id)?,
            action: opt(&self.action),
            limit,
            before: id_of("before", &self.before)?,
        })
    }
}

/// An entry as the API shows it.
pub(crate) fn entry_json(e: &AuditEntry) -> Value {
    json!({
        "id": e.id,
        "at": rfc3339(e.at),
        "actor": {"kind": e.actor.kind, "id": e.actor.id, "name": e.actor.name},
        "action": e.action,
        "entity": e.entity,
        "entity_id": e.entity_id,
        "changes": e.changes,
    })
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    let entries = state.store().audit_entries(&q.filter()?).await?;
    Ok(Json(json!({
        "success": true,
        "entries": entries.iter().map(entry_json).collect::<Vec<_>>(),
    })))
}

/// Undoes the changes of entry `audit_id` and nothing else: the fields it changed go back
/// to their values before it (through the same validation as an edit), and a pause or
/// resume it made is undone; a later edit of other fields, pause or resume stands. Its
/// credentials stay as they are now (the trail never holds them).
pub(crate) async fn revert_partner(
    state: &AppState,
    id: i64,
    audit_id: i64,
    actor: &Actor,
) -> Result<PartnerAnswer, ApiError> {
    let entry = state
        .store()
        .audit_entry(audit_id)
        .await?
        .filter(|e| e.entity == "partner" && e.entity_id == Some(id))
        .ok_or(ApiError::NotFound("no such audit entry for this partner"))?;
    let Some(Value::Object(before)) = entry.before else {
        return Err(ApiError::validation_one(
            "audit_id",
            match entry.action.as_str() {
                "create" => "the partner did not exist before this entry",
                _ => "this entry changed a secret, which cannot be brought back: rotate it again",
            },
        ));
    };
    let changed: Vec<String> = entry
        .changes
        .as_object()
        .map(|c| c.keys().cloned().collect())
        .unwrap_or_default();
    let patch: serde_json::Map<String, Value> = before
        .iter()
        .filter(|(k, _)| k.as_str() != "status" && changed.contains(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut answer = if patch.is_empty() {
        one(state, &crate::partners::find(state, id).await?)
            .await?
            .into()
    } else {
        update_partner(state, id, &patch, actor, "revert").await?
    };
    let status_before = changed
        .iter()
        .any(|k| k == "status")
        .then(|| before.get("status").and_then(Value::as_str))
        .flatten();
    let (signals, now) = (state.signals(), state.now_ms());
    let current = crate::partners::find(state, id).await?;
    let partner = match (status_before, current.status) {
        (Some("paused"), PartnerStatus::Active) => {
            let reason = "reverted to before an audit entry";
            actions::pause_partner(
                state.store(),
                signals,
                state.mailing(),
                id,
                reason,
                now,
                actor,
            )
            .await?
        }
        (Some("active"), PartnerStatus::Paused) => {
            Some(actions::resume_partner(state.store(), signals, id, now, actor).await?)
        }
        _ => None,
    };
    if let Some(p) = partner {
        answer = PartnerAnswer {
            warnings: answer.warnings,
            ..one(state, &p).await?.into()
        };
    }
    tracing::info!(partner_id = id, audit_id, "partner reverted");
    Ok(answer)
}

async fn revert(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let audit_id = input
        .get("audit_id")
        .and_then(Value::as_i64)
        .ok_or_else(|| ApiError::validation_one("audit_id", "must be an audit entry's id"))?;
    let answer = revert_partner(&state, id, audit_id, &auth.actor()).await?;
    Ok(super::reply(answer))
}
