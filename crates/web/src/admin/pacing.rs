//! `GET /api/admin/partners/{id}/pacing`: today's count and quotas in the partner's own day,
//! the projected total at the pace so far, when the cap will be reached, the next opening.

use crate::auth::AdminAuth;
use crate::extract::PathId;
use crate::partners::find;
use crate::views::Success;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use leadrouter_core::capacity::quotas;
use leadrouter_core::localtime::{local_date, rfc3339};
use leadrouter_core::pacing::pace;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/partners/{id}/pacing", get(pacing))
}

#[utoipa::path(get, path = "/api/admin/partners/{id}/pacing", tag = "partners", params(("id" = i64, Path, description = "the record's id")), responses((status = 200, description = "done", body = PacingView)), security(("admin" = [])))]
async fn pacing(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Success<PacingView>>, ApiError> {
    let p = find(&state, id).await?;
    let now = state.now_ms();
    let day = local_date(&p.spec.timezone, now);
    let c = state
        .store()
        .day_counts(&[(p.id, day.clone())])
        .await?
        .get(&p.id)
        .copied()
        .unwrap_or_default();
    let q = quotas(p.spec.daily_limit, p.spec.premium_ratio);
    let used = leadrouter_engine::router::window_use(state.store(), std::iter::once(&p), now)
        .await?
        .remove(&p.id)
        .unwrap_or_default();
    let limits = leadrouter_core::windows::lines(
        &p.spec.limits(),
        &used,
        p.spec.price_per_lead_cents.unwrap_or(0),
        &p.spec.timezone,
        now,
    );
    let pacing = pace(
        p.spec.business_hours.as_ref(),
        &p.spec.timezone,
        c.total,
        p.spec.daily_limit,
        now,
    );
    Ok(Json(Success::of(PacingView {
        partner_id: p.id,
        date: day,
        timezone: p.spec.timezone.clone(),
        total: c.total,
        limit: p.spec.daily_limit,
        premium: c.premium,
        raw: c.raw,
        quota_premium: q.premium,
        quota_raw: q.raw,
        projected_total: pacing.projected_total,
        cap_reached: pacing.cap_reached,
        cap_reached_at: pacing.cap_reached_at.map(rfc3339),
        next_opening: pacing.next_opening.map(rfc3339),
        limits,
    })))
}

/// A partner's day so far and at this pace (`GET /api/admin/partners/{id}/pacing`).
#[derive(serde::Serialize, utoipa::ToSchema)]
struct PacingView {
    partner_id: i64,
    /// The partner-local date.
    date: String,
    timezone: String,
    total: i64,
    limit: u32,
    premium: i64,
    raw: i64,
    quota_premium: u32,
    quota_raw: u32,
    projected_total: i64,
    cap_reached: bool,
    cap_reached_at: Option<String>,
    next_opening: Option<String>,
    /// Each cap's and budget's use (API.md "Partner rules").
    #[schema(value_type = Vec<Object>)]
    limits: Vec<leadrouter_core::windows::Line>,
}
