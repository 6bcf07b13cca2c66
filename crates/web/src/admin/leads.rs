//! `/api/admin/leads`: what came in, where it stands, and why. Also the submissions we
//! refused, so that nothing is silently dropped.

use crate::auth::AdminAuth;
use crate::extract::{Page, PathId};
use crate::{ApiError, AppState};
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use leadrouter_core::lead::full_name;
use leadrouter_core::localtime::rfc3339;
use leadrouter_store::leads::{LeadFilter, LeadRecord, LeadStatus};
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/leads", get(list))
        .route("/api/admin/leads/{id}", get(show))
        .route("/api/admin/rejected-submissions", get(rejections))
}

pub(crate) fn lead_json(l: &LeadRecord) -> Value {
    json!({
        "id": l.id,
        "status": l.status.as_str(),
        "first_name": l.first_name,
        "last_name": l.last_name,
        "name": full_name(l.first_name.as_deref(), l.last_name.as_deref()),
        "email": l.email,
        "phone": l.phone,
        "country": l.country,
        "niche": l.niche,
        "lead_type": l.lead_type,
        "source": l.source_label,
        "source_id": l.source_id,
        "external_id": l.external_id,
        "custom_fields": l.custom_fields,
        "received_at": rfc3339(l.received_at),
        "updated_at": rfc3339(l.updated_at),
        "partner_id": l.partner_id,
        "duplicate_of": l.duplicate_of,
        "routing": l.routing.clone().unwrap_or_else(|| json!([])),
    })
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    country: Option<String>,
    niche: Option<String>,
    partner_id: Option<String>,
    source_id: Option<String>,
    q: Option<String>,
}

fn opt(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

fn opt_id(name: &str, s: Option<String>) -> Result<Option<i64>, ApiError> {
    opt(s)
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| ApiError::validation_one(name, "must be an id"))
        })
        .transpose()
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = opt(q.status);
    if let Some(s) = &status {
        if LeadStatus::parse(s).is_none() {
            return Err(ApiError::validation_one(
                "status",
                "must be one of: queued, held, assigned, delivered, failed, expired, duplicate",
            ));
        }
    }
    let catalog = state.catalog().await?;
    let country = match opt(q.country) {
        Some(c) => Some(catalog.market(&c).map(|m| m.slug.clone()).ok_or_else(|| {
            ApiError::validation_one("country", format!("unknown country \"{c}\""))
        })?),
        None => None,
    };
    let filter = LeadFilter {
        status,
        country,
        niche: opt(q.niche).map(|n| n.to_lowercase()),
        partner_id: opt_id("partner_id", q.partner_id)?,
        source_id: opt_id("source_id", q.source_id)?,
        q: opt(q.q),
        limit: page.limit,
        before: page.before,
    };
    let leads = state.store().list_leads(&filter).await?;
    let next = page.next_before(leads.iter().map(|l| l.id));
    let items: Vec<Value> = leads.iter().map(lead_json).collect();
    Ok(Json(
        json!({"success": true, "leads": items, "next_before": next}),
    ))
}

async fn show(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let lead = state
        .store()
        .lead(id)
        .await?
        .ok_or(ApiError::NotFound("no such lead"))?;
    let mut body = lead_json(&lead);
    body["deliveries"] = json!([]);
    body["success"] = json!(true);
    Ok(Json(body))
}

async fn rejections(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
) -> Result<Json<Value>, ApiError> {
    let items = state
        .store()
        .list_rejections(page.limit, page.before)
        .await?;
    let next = page.next_before(items.iter().map(|r| r.id));
    let items: Vec<Value> = items
        .iter()
        .map(|r| {
            json!({"id": r.id, "source_id": r.source_id, "received_at": rfc3339(r.received_at),
                   "reason": r.reason, "content_type": r.content_type, "body": r.body})
        })
        .collect();
    Ok(Json(
        json!({"success": true, "rejected_submissions": items, "next_before": next}),
    ))
}
