//! The partner API (API.md "Partner API"): partners report conversions and read their own
//! leads and figures, with their `pk_` key. A partner only ever sees its own leads.

use crate::extract::JsonObject;
use crate::views::{
    ConversionRecordedView, CpaSummary, CpaView, PartnerAnalytics, PartnerConversionView,
    PartnerCpaView, PartnerHistoryView, PartnerLeadAnswer, PartnerLeadView, Success,
};
use crate::{ApiError, AppState};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::{get, post};
use axum::{Json, Router};
use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::conversion::{
    quality_score, validate_conversion, validate_postback, ConversionReport,
};
use leadrouter_core::localtime::{day_start_utc, rfc3339};
use leadrouter_core::money::Money;
use leadrouter_core::token::hash_secret;
use leadrouter_store::partners::Partner;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use subtle::ConstantTimeEq;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/api/conversion/{partner_id}", post(conversion))
        .route("/api/postback/{partner_id}", post(postback))
        .route("/api/lead/{lead_id}/status", get(lead_status))
        .route("/api/analytics/cpa", get(cpa))
}

type Keyed = RateLimiter<i64, DefaultKeyedStateStore<i64>, DefaultClock>;

/// Per-key limits, per minute: conversions and postbacks, lead status, CPA analytics.
pub const PER_MINUTE: (u32, u32, u32) = (50, 100, 20);

/// Per-key limits. Each instance keeps its own (a shared limit would cost a database write
/// per request), divided by the number of instances sharing the database
/// (`LEADROUTER_INSTANCES`), so that together they allow what one instance would: a key
/// sent to one instance of two gets half.
pub struct PartnerLimits {
    conversions: Keyed,
    status: Keyed,
    analytics: Keyed,
}

impl PartnerLimits {
    pub fn shared_by(instances: u32) -> Self {
        let per_minute = |n: u32| {
            let share = n.div_ceil(instances.max(1));
            RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(share).unwrap_or(NonZeroU32::MIN),
            ))
        };
        let (conversions, status, analytics) = PER_MINUTE;
        Self {
            conversions: per_minute(conversions),
            status: per_minute(status),
            analytics: per_minute(analytics),
        }
    }
}

fn limit(limiter: &Keyed, partner_id: i64) -> Result<(), ApiError> {
    limiter.check_key(&partner_id).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        ApiError::RateLimited {
            retry_after_secs: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
        }
    })
}

/// A partner authenticated by its API key (`Authorization: Bearer pk_...` or `x-api-key`).
pub struct PartnerKey(pub Partner);

impl FromRequestParts<AppState> for PartnerKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let key = crate::auth::bearer(parts)
            .map(str::to_owned)
            .or_else(|| {
                parts
                    .headers
                    .get("x-api-key")
                    .and_then(|v| v.to_str().ok())
                    .map(|s| s.trim().to_string())
            })
            .filter(|k| !k.is_empty())
            .ok_or(ApiError::Unauthorized(
                "send your API key: Authorization: Bearer pk_... or x-api-key",
            ))?;
        let hash = hash_secret(&key);
        let now = state.now_ms();
        let partner = state
            .store()
            .partner_by_api_key(&hash, now)
            .await?
            .ok_or(ApiError::Unauthorized("invalid API key"))?;
        // The lookup was by hash; compare the stored ones anyway, in constant time.
        let stored = state.store().partner_key_hashes(partner.id, now).await?;
        let matches = stored.iter().fold(subtle::Choice::from(0), |m, s| {
            m | s.as_bytes().ct_eq(hash.as_bytes())
        });
        if !bool::from(matches) {
            return Err(ApiError::Unauthorized("invalid API key"));
        }
        Ok(PartnerKey(partner))
    }
}

/// The partner named in the path must be the key's own.
pub(crate) fn own_path(key: &Partner, raw: &str) -> Result<(), ApiError> {
    let id: i64 = raw
        .trim()
        .parse()
        .map_err(|_| ApiError::NotFound("no such partner"))?;
    if id != key.id {
        return Err(ApiError::Forbidden(
            "this API key belongs to another partner",
        ));
    }
    Ok(())
}

async fn record(
    state: &AppState,
    partner: &Partner,
    report: ConversionReport,
) -> Result<Json<Success<ConversionRecordedView>>, ApiError> {
    if !state
        .store()
        .delivered_to(report.lead_id, partner.id)
        .await?
    {
        return Err(ApiError::NotFound(
            "no lead with this id was delivered to you",
        ));
    }
    let new = state
        .store()
        .record_conversion(partner.id, &report, state.now_ms())
        .await?;
    tracing::info!(
        partner_id = partner.id,
        lead_id = report.lead_id,
        new,
        kind = report.conversion_type.as_str(),
        "conversion reported"
    );
    let total: i64 = state
        .store()
        .lead_conversions(report.lead_id)
        .await?
        .iter()
        .filter(|c| c.partner_id == partner.id)
        .map(|c| c.value_cents)
        .sum();
    Ok(Json(Success::of(ConversionRecordedView {
        message: if new {
            "Conversion recorded successfully"
        } else {
            "Conversion already recorded (idempotent)"
        },
        lead_id: report.lead_id,
        conversion_type: report.conversion_type.as_str(),
        total_value: Money(total),
    })))
}

#[utoipa::path(post, path = "/api/conversion/{partner_id}", tag = "partner API", params(("partner_id" = i64, Path, description = "the partner's id (its own)")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = crate::views::ConversionRecordedView)), security(("partner_key" = [])))]
async fn conversion(
    State(state): State<AppState>,
    PartnerKey(partner): PartnerKey,
    crate::extract::PathParts(partner_id): crate::extract::PathParts<String>,
    JsonObject(mut body): JsonObject,
) -> Result<Json<Success<ConversionRecordedView>>, ApiError> {
    own_path(&partner, &partner_id)?;
    limit(&state.partner_limits().conversions, partner.id)?;
    // Brokers report by their own id: `partner_lead_id` in place of our lead id.
    if body.get("lead_id").is_none_or(Value::is_null) {
        let theirs = body.get("partner_lead_id").and_then(|v| match v {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        });
        if let Some(theirs) = theirs.filter(|s| !s.is_empty()) {
            let lead = state
                .store()
                .lead_of_partner_lead_id(partner.id, &theirs)
                .await?
                .ok_or(ApiError::NotFound(
                    "no lead delivered to you has this partner_lead_id",
                ))?;
            body.insert("lead_id".into(), Value::from(lead));
        }
    }
    let report = validate_conversion(&body).map_err(ApiError::Validation)?;
    record(&state, &partner, report).await
}

#[utoipa::path(post, path = "/api/postback/{partner_id}", tag = "partner API", params(("partner_id" = i64, Path, description = "the partner's id (its own)")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 200, description = "done", body = crate::views::ConversionRecordedView)), security(("partner_key" = [])))]
async fn postback(
    State(state): State<AppState>,
    PartnerKey(partner): PartnerKey,
    crate::extract::PathParts(partner_id): crate::extract::PathParts<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Success<ConversionRecordedView>>, ApiError> {
    own_path(&partner, &partner_id)?;
    limit(&state.partner_limits().conversions, partner.id)?;
    let report = validate_postback(&body).map_err(ApiError::Validation)?;
    record(&state, &partner, report).await
}

#[utoipa::path(get, path = "/api/lead/{lead_id}/status", tag = "partner API", params(("lead_id" = i64, Path, description = "one of the partner's leads")), responses((status = 200, description = "done", body = crate::views::PartnerLeadAnswer)), security(("partner_key" = [])))]
async fn lead_status(
    State(state): State<AppState>,
    PartnerKey(partner): PartnerKey,
    crate::extract::PathParts(lead_id): crate::extract::PathParts<String>,
) -> Result<Json<Success<PartnerLeadAnswer>>, ApiError> {
    limit(&state.partner_limits().status, partner.id)?;
    let not_yours = ApiError::NotFound("no lead with this id was delivered to you");
    let Ok(lead_id) = lead_id.trim().parse::<i64>() else {
        return Err(not_yours);
    };
    if !state.store().delivered_to(lead_id, partner.id).await? {
        return Err(not_yours);
    }
    let lead = state.store().lead(lead_id).await?.ok_or(not_yours)?;
    let conversions: Vec<_> = state
        .store()
        .lead_conversions(lead_id)
        .await?
        .into_iter()
        .filter(|c| c.partner_id == partner.id)
        .collect();
    let total: i64 = conversions.iter().map(|c| c.value_cents).sum();
    // Only what happened between this partner and the lead: other partners' outcomes are
    // theirs, and free-text details may name them.
    let status_history: Vec<PartnerHistoryView> = state
        .store()
        .partner_lead_history(lead_id, partner.id)
        .await?
        .into_iter()
        .map(|(status, at, status_code)| PartnerHistoryView {
            status,
            at: rfc3339(at),
            status_code,
        })
        .collect();
    let status = if conversions.is_empty() {
        lead.status.as_str()
    } else {
        "converted"
    };
    Ok(Json(Success::of(PartnerLeadAnswer {
        lead: PartnerLeadView {
            id: lead.id,
            email: lead.email.clone(),
            status: status.to_string(),
            quality_score: quality_score(conversions.iter().map(|c| c.conversion_type.as_str())),
            conversion_value: Money(total),
            converted_at: conversions.first().map(|c| rfc3339(c.created_at)),
            partner_name: partner.spec.name.clone(),
            status_history,
            conversion_count: conversions.len(),
            conversions: conversions.iter().map(PartnerConversionView::new).collect(),
        },
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Period {
    date_from: Option<String>,
    date_to: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// `[from, to)` in epoch ms from inclusive `YYYY-MM-DD` days; the last 30 days by default.
pub(crate) fn period(
    from: Option<&str>,
    to: Option<&str>,
    now: EpochMillis,
) -> Result<(EpochMillis, EpochMillis), ApiError> {
    const DAY: i64 = 86_400_000;
    let mut errors = BTreeMap::new();
    let mut day = |name: &str, v: Option<&str>| match v.map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => day_start_utc(s).or_else(|| {
            errors.insert(name.to_string(), "must be a date YYYY-MM-DD".to_string());
            None
        }),
    };
    let end = day("date_to", to).map(|d| d + DAY);
    let start = day("date_from", from);
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let end = end.unwrap_or(now - now.rem_euclid(DAY) + DAY);
    let start = start.unwrap_or(end - 30 * DAY);
    if start >= end {
        return Err(ApiError::validation_one(
            "date_from",
            "must not be after date_to",
        ));
    }
    Ok((start, end))
}

#[utoipa::path(get, path = "/api/analytics/cpa", tag = "partner API", params(Period), responses((status = 200, description = "done", body = crate::views::PartnerAnalytics)), security(("partner_key" = [])))]
async fn cpa(
    State(state): State<AppState>,
    PartnerKey(partner): PartnerKey,
    crate::extract::QueryOf(q): crate::extract::QueryOf<Period>,
) -> Result<Json<Success<PartnerAnalytics>>, ApiError> {
    limit(&state.partner_limits().analytics, partner.id)?;
    let (from, to) = period(
        q.date_from.as_deref().or(q.from.as_deref()),
        q.date_to.as_deref().or(q.to.as_deref()),
        state.now_ms(),
    )?;
    let figures = state.store().partner_cpa(partner.id, from, to).await?;
    Ok(Json(Success::of(PartnerAnalytics {
        analytics: vec![PartnerCpaView::new(&partner, &figures)],
        summary: CpaSummary {
            figures: CpaView::new(&figures),
            date_from: rfc3339(from)[..10].to_string(),
            date_to: rfc3339(to - 1)[..10].to_string(),
        },
    })))
}
