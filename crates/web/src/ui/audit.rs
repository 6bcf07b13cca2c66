//! The console's Audit page: who changed what (filters by entity, id and action), each
//! change field by field, and "Revert" on a partner's entries (through the same revert as
//! the admin API).

use super::flash::{redirect_with_notice, Flash};
use super::form::Posted;
use super::page::{render, Chrome};
use crate::audit_query::AuditQuery;
use crate::operator::Operator;
use crate::partners::revert_partner;
use crate::time;
use crate::ui::PageError;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use leadrouter_store::audit::AuditEntry;
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(list))
        .route("/admin/audit/{id}/revert", post(revert))
}

/// One changed field as shown: its name, before and after (a secret: only "changed").
/// `kind` is `set` (nothing before), `cleared` (nothing after), `changed` or `secret`.
pub(crate) struct FieldChange {
    pub field: String,
    pub before: String,
    pub after: String,
    pub kind: &'static str,
}

pub(crate) struct Row {
    pub e: AuditEntry,
    pub at: String,
    pub link: Option<String>,
    pub fields: Vec<FieldChange>,
    pub revertable: bool,
}

#[derive(askama::Template)]
#[template(path = "audit.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    entity: String,
    entity_id: String,
    action: String,
    flash: Flash,
    next_before: Option<i64>,
}

const PAGE: i64 = 100;
pub(crate) const ENTITIES: &[&str] = &[
    "partner",
    "source",
    "market",
    "niche",
    "user",
    "token",
    "partner_user",
    "supplier_user",
    "lead",
];
pub(crate) const ACTIONS: &[&str] = &[
    "create",
    "update",
    "delete",
    "pause",
    "resume",
    "rotate_key",
    "rotate_secret",
    "revert",
    "erase",
];

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) if s.is_empty() => "(empty)".into(),
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}

fn row(e: AuditEntry, tz: &str) -> Row {
    let fields = e
        .changes
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, c)| FieldChange {
                    field: k.clone(),
                    before: shown(&c["before"]),
                    after: shown(&c["after"]),
                    kind: match (c.get("changed").is_some(), &c["before"], &c["after"]) {
                        (true, ..) => "secret",
                        (_, Value::Null, _) => "set",
                        (_, _, Value::Null) => "cleared",
                        _ => "changed",
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let link = e.entity_id.and_then(|id| match e.entity.as_str() {
        "partner" => Some(format!("/admin/partners/{id}")),
        "source" => Some(format!("/admin/sources/{id}")),
        _ => None,
    });
    Row {
        at: time::local(e.at, tz),
        revertable: e.entity == "partner" && e.before.is_some() && e.action != "delete",
        link,
        fields,
        e,
    }
}

async fn list(
    State(state): State<AppState>,
    op: Operator,
    crate::extract::QueryOf(q): crate::extract::QueryOf<AuditQuery>,
) -> Result<Response, PageError> {
    let mut filter = q.filter()?;
    filter.limit = PAGE;
    let entries = state.store().audit_entries(&filter).await?;
    let next_before = (entries.len() as i64 == PAGE)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    let tz = op.timezone.clone();
    Ok(render(&ListPage {
        chrome: Chrome::new(&op, "audit", "Audit"),
        rows: entries.into_iter().map(|e| row(e, &tz)).collect(),
        entity: q.entity.unwrap_or_default(),
        entity_id: q.entity_id.unwrap_or_default(),
        action: q.action.unwrap_or_default(),
        flash: state.flashes().take(&op.session_hash, "/admin/audit"),
        next_before,
    }))
}

/// Puts a partner back as it was before entry `id`.
async fn revert(
    State(state): State<AppState>,
    crate::extract::PathParts(id): crate::extract::PathParts<i64>,
    posted: Posted,
) -> Result<Response, PageError> {
    let op = posted.op;
    let entry = state
        .store()
        .audit_entry(id)
        .await?
        .ok_or(ApiError::NotFound("no such audit entry"))?;
    let partner = entry
        .entity_id
        .filter(|_| entry.entity == "partner")
        .ok_or(ApiError::NotFound("no partner to revert"))?;
    let (path, notice) = match revert_partner(&state, partner, id, &op.actor()).await {
        Ok(_) => (
            format!("/admin/partners/{partner}"),
            format!("Settings put back as they were before change #{id}."),
        ),
        Err(ApiError::Validation(e)) => (
            "/admin/audit".to_string(),
            format!(
                "Change #{id} cannot be reverted: {}.",
                e.values().cloned().collect::<Vec<_>>().join("; ")
            ),
        ),
        Err(e) => return Err(e.into()),
    };
    Ok(redirect_with_notice(&state, &op, &path, notice))
}
