//! `/api/admin/partners`: the guide's "Adding New Partners", as an API.

use super::reply;
use crate::auth::AdminAuth;
use crate::extract::{JsonObject, Page, PathId};
use crate::views::PartnerView;
use crate::webhook_dns::{check_webhook_host, DnsVerdict};
use crate::{secrets, ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_core::localtime::local_date;
use leadrouter_core::partner::{validate_partner, PartnerSpec};
use leadrouter_core::token::{display_prefix, hash_secret};
use leadrouter_engine::actions;
use leadrouter_store::audit::Actor;
use leadrouter_store::partners::{NewPartnerSecrets, Partner};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/partners", get(list).post(create))
        .route(
            "/api/admin/partners/{id}",
            get(show).patch(update).delete(remove),
        )
        .route("/api/admin/partners/{id}/pause", post(pause))
        .route("/api/admin/partners/{id}/resume", post(resume))
        .route("/api/admin/partners/{id}/rotate-key", post(rotate_key))
        .route(
            "/api/admin/partners/{id}/rotate-secret",
            post(rotate_secret),
        )
}

/// A partner answer: the view, plus what is shown only once or only now.
#[derive(Serialize)]
pub(crate) struct PartnerAnswer {
    #[serde(flatten)]
    pub partner: PartnerView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings: Option<Vec<String>>,
}

impl From<PartnerView> for PartnerAnswer {
    fn from(partner: PartnerView) -> Self {
        PartnerAnswer {
            partner,
            api_key: None,
            signing_secret: None,
            warnings: None,
        }
    }
}

pub(crate) async fn with_today(
    state: &AppState,
    partners: &[Partner],
) -> Result<Vec<PartnerView>, ApiError> {
    let now = state.now_ms();
    let keys: Vec<(i64, String)> = partners
        .iter()
        .map(|p| (p.id, local_date(&p.spec.timezone, now)))
        .collect();
    let counts = state.store().day_counts(&keys).await?;
    Ok(partners
        .iter()
        .zip(&keys)
        .map(|(p, (_, day))| {
            PartnerView::new(p, counts.get(&p.id).copied().unwrap_or_default(), day)
        })
        .collect())
}

pub(crate) async fn one(state: &AppState, p: &Partner) -> Result<PartnerView, ApiError> {
    Ok(with_today(state, std::slice::from_ref(p)).await?.remove(0))
}

/// Every problem of `input` (with DNS for a new or changed webhook), without saving: for a
/// form whose own checks already failed, so that all its errors are shown at once.
pub(crate) async fn problems(
    state: &AppState,
    input: &Map<String, Value>,
    base: Option<&PartnerSpec>,
) -> Result<BTreeMap<String, String>, ApiError> {
    match validated(state, input, base).await {
        Ok(_) => Ok(BTreeMap::new()),
        Err(ApiError::Validation(e)) => Ok(e),
        Err(e) => Err(e),
    }
}

/// Validates input (with DNS for a new or changed webhook), reporting every bad field.
async fn validated(
    state: &AppState,
    input: &Map<String, Value>,
    base: Option<&PartnerSpec>,
) -> Result<(PartnerSpec, Vec<String>), ApiError> {
    let catalog = state.catalog().await?;
    let v = validate_partner(input, base, &catalog, &state.settings().allow);
    let mut warnings = v.warnings;
    let mut errors = match &v.result {
        Ok(_) => BTreeMap::new(),
        Err(e) => e.clone(),
    };
    let url_changed = base.is_none_or(|b| {
        v.webhook
            .as_ref()
            .is_some_and(|w| w.url.as_str() != b.webhook_url)
    });
    if let (Some(webhook), true) = (&v.webhook, url_changed) {
        // A name that does not resolve is accepted with a warning (the partner's DNS may
        // not exist yet); delivery checks again.
        match check_webhook_host(state, webhook).await {
            DnsVerdict::Allowed => {}
            DnsVerdict::Blocked(problem) => {
                errors.insert("webhook_url".into(), problem);
            }
            DnsVerdict::Unresolved(name) => warnings.push(format!(
                "webhook host {name} does not resolve yet; it is checked again before every delivery"
            )),
        }
    }
    if let Ok(spec) = &v.result {
        crate::webhook_dns::check_erasure_host(state, spec, base, &mut errors, &mut warnings).await;
    }
    match v.result {
        Ok(spec) if errors.is_empty() => Ok((spec, warnings)),
        _ => Err(ApiError::Validation(errors)),
    }
}

async fn create(
    auth: AdminAuth,
    State(state): State<AppState>,
    JsonObject(input): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = create_partner(&state, &input, &auth.actor()).await?;
    Ok((StatusCode::CREATED, reply(body)))
}

/// Creates a partner from operator input (the API's and the console's form alike), with
/// its API key and signing secret, shown this once.
pub(crate) async fn create_partner(
    state: &AppState,
    input: &Map<String, Value>,
    actor: &Actor,
) -> Result<PartnerAnswer, ApiError> {
    let (spec, warnings) = validated(state, input, None).await?;
    let api_key = secrets::new_partner_key();
    let signing_secret = secrets::new_signing_secret();
    let partner = state
        .store()
        .create_partner(
            &spec,
            &NewPartnerSecrets {
                api_key_hash: &hash_secret(&api_key),
                api_key_prefix: &display_prefix(&api_key),
                signing_secret: &signing_secret,
            },
            state.now_ms(),
            &|id| {
                leadrouter_engine::mail::welcome(&state.mailing().ctx, id, &spec)
                    .into_iter()
                    .collect()
            },
            state.mailing().sending,
            actor,
        )
        .await?;
    state.signals().mail_queued();
    tracing::info!(partner_id = partner.id, "partner created");
    actions::recheck_held(
        state.store(),
        state.signals(),
        Some(&spec.country),
        Some(&spec.niche),
        state.now_ms(),
    )
    .await?;
    Ok(PartnerAnswer {
        api_key: Some(api_key),
        signing_secret: Some(signing_secret),
        warnings: Some(warnings),
        ..one(state, &partner).await?.into()
    })
}

async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
) -> Result<Json<Value>, ApiError> {
    let partners = state.store().list_partners(page.limit, page.before).await?;
    let next = page.next_before(partners.iter().map(|p| p.id));
    let items = with_today(&state, &partners).await?;
    Ok(Json(
        json!({"success": true, "partners": items, "next_before": next}),
    ))
}

pub(crate) async fn find(state: &AppState, id: i64) -> Result<Partner, ApiError> {
    state
        .store()
        .partner(id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))
}

async fn show(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let partner = find(&state, id).await?;
    Ok(reply(one(&state, &partner).await?))
}

async fn update(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    JsonObject(input): JsonObject,
) -> Result<Json<Value>, ApiError> {
    Ok(reply(
        update_partner(&state, id, &input, &auth.actor(), "update").await?,
    ))
}

/// Changes a partner's settings: absent fields keep their values. `action` is `update`,
/// or `revert` for an earlier entry's settings.
pub(crate) async fn update_partner(
    state: &AppState,
    id: i64,
    input: &Map<String, Value>,
    actor: &Actor,
    action: &'static str,
) -> Result<PartnerAnswer, ApiError> {
    let current = find(state, id).await?;
    let (spec, warnings) = validated(state, input, Some(&current.spec)).await?;
    let partner = state
        .store()
        .update_partner(id, &spec, state.now_ms(), actor, action)
        .await?;
    tracing::info!(partner_id = id, "partner updated");
    actions::recheck_held(
        state.store(),
        state.signals(),
        Some(&spec.country),
        Some(&spec.niche),
        state.now_ms(),
    )
    .await?;
    Ok(PartnerAnswer {
        warnings: Some(warnings),
        ..one(state, &partner).await?.into()
    })
}

async fn remove(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    // Its waiting deliveries would never be sent: their leads go to another partner.
    actions::delete_partner(
        state.store(),
        state.signals(),
        id,
        state.now_ms(),
        &auth.actor(),
    )
    .await?;
    Ok(Json(json!({"success": true, "id": id, "deleted": true})))
}

async fn pause(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let p = actions::pause_partner(
        state.store(),
        state.signals(),
        state.mailing(),
        id,
        "paused by an operator",
        state.now_ms(),
        &auth.actor(),
    )
    .await?
    .ok_or(ApiError::NotFound("no such partner"))?;
    Ok(reply(one(&state, &p).await?))
}

async fn resume(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let p = actions::resume_partner(
        state.store(),
        state.signals(),
        id,
        state.now_ms(),
        &auth.actor(),
    )
    .await?;
    Ok(reply(one(&state, &p).await?))
}

/// The longest a rotated API key may keep working beside the new one.
pub(crate) const MAX_KEY_OVERLAP_HOURS: i64 = 7 * 24;

async fn rotate_key(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    // The body is optional: none (or `{}`) rotates with no overlap.
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| ApiError::validation_one("body", "must be a JSON object"))?
    };
    let hours = match body.get("keep_old_hours") {
        None | Some(Value::Null) => 0,
        Some(v) => v
            .as_i64()
            .filter(|h| (0..=MAX_KEY_OVERLAP_HOURS).contains(h))
            .ok_or_else(|| {
                ApiError::validation_one(
                    "keep_old_hours",
                    format!("must be a whole number of hours from 0 to {MAX_KEY_OVERLAP_HOURS}"),
                )
            })?,
    };
    Ok(reply(
        rotate_partner_key(&state, id, hours, &auth.actor()).await?,
    ))
}

/// A new API key for the partner, shown this once. The old one keeps working for
/// `keep_old_hours` (0: it stops at once, as for a leaked key).
pub(crate) async fn rotate_partner_key(
    state: &AppState,
    id: i64,
    keep_old_hours: i64,
    actor: &Actor,
) -> Result<PartnerAnswer, ApiError> {
    let api_key = secrets::new_partner_key();
    let now = state.now_ms();
    let old_until = (keep_old_hours > 0).then(|| now + keep_old_hours * 3_600_000);
    let p = state
        .store()
        .set_partner_api_key(
            id,
            &hash_secret(&api_key),
            &display_prefix(&api_key),
            old_until,
            now,
            actor,
        )
        .await?;
    tracing::info!(partner_id = id, keep_old_hours, "partner API key rotated");
    Ok(PartnerAnswer {
        api_key: Some(api_key),
        ..one(state, &p).await?.into()
    })
}

async fn rotate_secret(
    auth: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    Ok(reply(
        rotate_partner_secret(&state, id, &auth.actor()).await?,
    ))
}

/// How long a rotated secret keeps signing beside the new one.
pub(crate) const SECRET_OVERLAP_MS: i64 = 24 * 3_600_000;

/// A new signing secret for the partner, shown this once; the old one keeps signing
/// beside it for 24 hours (both `v1,` signatures in `webhook-signature`).
pub(crate) async fn rotate_partner_secret(
    state: &AppState,
    id: i64,
    actor: &Actor,
) -> Result<PartnerAnswer, ApiError> {
    let signing_secret = secrets::new_signing_secret();
    let now = state.now_ms();
    let p = state
        .store()
        .set_partner_signing_secret(id, &signing_secret, now + SECRET_OVERLAP_MS, now, actor)
        .await?;
    tracing::info!(partner_id = id, "partner signing secret rotated");
    Ok(PartnerAnswer {
        signing_secret: Some(signing_secret),
        ..one(state, &p).await?.into()
    })
}
