//! `GET /api/admin/notifications?kind=&status=`: the mails queued, sent, failed or only
//! recorded, newest first.

use crate::auth::AdminAuth;
use crate::extract::Page;
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use leadrouter_core::localtime::rfc3339;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/notifications", get(list))
}

#[derive(Deserialize)]
struct Q {
    kind: Option<String>,
    status: Option<String>,
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<Q>,
) -> Result<Json<Value>, ApiError> {
    let some = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let rows = state
        .store()
        .list_notifications(
            some(&q.kind).as_deref(),
            some(&q.status).as_deref(),
            page.limit,
        )
        .await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|n| {
            json!({"id": n.id, "kind": n.kind, "to": n.to, "copy_to": n.copy_to, "subject": n.subject, "status": n.status,
                   "attempts": n.attempts, "last_error": n.last_error, "error_code": n.error_code,
                   "partner_id": n.partner_id, "created_at": rfc3339(n.created_at),
                   "sent_at": n.sent_at.map(rfc3339), "text": n.text})
        })
        .collect();
    Ok(Json(json!({"success": true, "notifications": items})))
}
