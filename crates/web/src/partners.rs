//! What the JSON API and the console both do with a partner, between their own ways of
//! reading a request and answering it: the input checked (core's rules, and the webhook's
//! DNS), the action of `engine::actions` called, the answer built (the view with today's
//! count, and what was issued, shown once). Neither presenter imports the other.

use crate::views::PartnerView;
use crate::webhook_dns::{check_webhook_host, DnsVerdict};
use crate::{ApiError, AppState};
use leadrouter_core::localtime::local_date;
use leadrouter_core::partner::{validate_partner, PartnerSpec};
use leadrouter_engine::actions::{self, Issued};
use leadrouter_store::audit::Actor;
use leadrouter_store::partners::{Partner, PartnerStatus};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

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
    let (counts, used) = tokio::try_join!(
        state.store().day_counts(&keys),
        leadrouter_engine::router::window_use(state.store(), partners.iter(), now)
    )?;
    Ok(partners
        .iter()
        .zip(&keys)
        .map(|(p, (_, day))| {
            let lines = leadrouter_core::windows::lines(
                &p.spec.limits(),
                &used.get(&p.id).copied().unwrap_or_default(),
                p.spec.price_per_lead_cents.unwrap_or(0),
                &p.spec.timezone,
                now,
            );
            PartnerView::new(
                p,
                counts.get(&p.id).copied().unwrap_or_default(),
                day,
                lines,
            )
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

impl PartnerAnswer {
    /// The view of `partner` with what was just issued.
    async fn issued(state: &AppState, partner: &Partner, issued: Issued) -> Result<Self, ApiError> {
        Ok(PartnerAnswer {
            api_key: issued.api_key,
            signing_secret: issued.signing_secret,
            ..one(state, partner).await?.into()
        })
    }
}

/// Creates a partner from operator input (the API's and the console's form alike), with
/// its API key and signing secret, shown this once.
pub(crate) async fn create_partner(
    state: &AppState,
    input: &Map<String, Value>,
    actor: &Actor,
) -> Result<PartnerAnswer, ApiError> {
    let (spec, warnings) = validated(state, input, None).await?;
    let (partner, issued) = actions::create_partner(
        state.store(),
        state.signals(),
        state.mailing(),
        &spec,
        state.now_ms(),
        actor,
    )
    .await?;
    Ok(PartnerAnswer {
        warnings: Some(warnings),
        ..PartnerAnswer::issued(state, &partner, issued).await?
    })
}

pub(crate) async fn find(state: &AppState, id: i64) -> Result<Partner, ApiError> {
    state
        .store()
        .partner(id)
        .await?
        .ok_or(ApiError::NotFound("no such partner"))
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
    let partner = actions::update_partner(
        state.store(),
        state.signals(),
        id,
        &spec,
        state.now_ms(),
        actor,
        action,
    )
    .await?;
    Ok(PartnerAnswer {
        warnings: Some(warnings),
        ..one(state, &partner).await?.into()
    })
}

/// A new API key for the partner, shown this once. The old one keeps working for
/// `keep_old_hours` (0: it stops at once, as for a leaked key).
pub(crate) async fn rotate_partner_key(
    state: &AppState,
    id: i64,
    keep_old_hours: i64,
    actor: &Actor,
) -> Result<PartnerAnswer, ApiError> {
    let (partner, issued) =
        actions::rotate_partner_key(state.store(), id, keep_old_hours, state.now_ms(), actor)
            .await?;
    PartnerAnswer::issued(state, &partner, issued).await
}

/// A new signing secret for the partner, shown this once; the old one keeps signing
/// beside it for 24 hours.
pub(crate) async fn rotate_partner_secret(
    state: &AppState,
    id: i64,
    actor: &Actor,
) -> Result<PartnerAnswer, ApiError> {
    let (partner, issued) =
        actions::rotate_partner_secret(state.store(), id, state.now_ms(), actor).await?;
    PartnerAnswer::issued(state, &partner, issued).await
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
        one(state, &find(state, id).await?).await?.into()
    } else {
        update_partner(state, id, &patch, actor, "revert").await?
    };
    let status_before = changed
        .iter()
        .any(|k| k == "status")
        .then(|| before.get("status").and_then(Value::as_str))
        .flatten();
    let partner = match status_before.and_then(PartnerStatus::parse) {
        Some(before) => {
            actions::restore_status(
                state.store(),
                state.signals(),
                state.mailing(),
                id,
                before,
                state.now_ms(),
                actor,
            )
            .await?
        }
        None => None,
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
