//! `GET /api/admin/analytics?from=YYYY-MM-DD&to=YYYY-MM-DD`: per partner, the leads it was
//! delivered in the period, their conversions, the conversion rate and the revenue.

use crate::auth::AdminAuth;
use crate::partner_api::period;
use crate::views::{AdminAnalytics, CpaView, PartnerCpaView, Success};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use leadrouter_core::localtime::rfc3339;
use leadrouter_store::conversions::Cpa;
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/analytics", get(analytics))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Q {
    from: Option<String>,
    to: Option<String>,
    group_by: Option<String>,
    day: Option<String>,
    /// The operator's timezone for `day=operator` (default UTC).
    timezone: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/analytics", tag = "analytics", params(Q), responses((status = 200, description = "done", body = crate::views::AdminAnalytics)), security(("admin" = [])))]
async fn analytics(
    _: AdminAuth,
    State(state): State<AppState>,
    crate::extract::QueryOf(q): crate::extract::QueryOf<Q>,
) -> Result<Json<Success<AdminAnalytics>>, ApiError> {
    let (from, to) = period(q.from.as_deref(), q.to.as_deref(), state.now_ms())?;
    let (partners, partner_totals) = figures(&state, from, to).await?;
    let report = crate::report::grouped(
        &state,
        q.from.as_deref(),
        q.to.as_deref(),
        q.group_by.as_deref().unwrap_or("day"),
        q.day.as_deref().unwrap_or("operator"),
        q.timezone.as_deref().unwrap_or("UTC"),
    )
    .await?;
    Ok(Json(Success::of(AdminAnalytics {
        from: rfc3339(from)[..10].to_string(),
        to: rfc3339(to - 1)[..10].to_string(),
        partners,
        partner_totals,
        rows: report.rows,
        totals: report.totals,
    })))
}

/// Per partner and in total, for a period of UTC days `from..to` (milliseconds).
async fn figures(
    state: &AppState,
    from: i64,
    to: i64,
) -> Result<(Vec<PartnerCpaView>, CpaView), ApiError> {
    let mut rows = Vec::new();
    let mut all = Cpa::default();
    let mut before = None;
    let cpa = state.store().cpa_by_partner(None, from, to).await?;
    loop {
        let page = state.store().list_partners(200, before).await?;
        for p in &page {
            let c = cpa.get(&p.id).cloned().unwrap_or_default();
            all.total_leads += c.total_leads;
            all.converted_leads += c.converted_leads;
            all.conversion_events += c.conversion_events;
            all.revenue_cents += c.revenue_cents;
            all.quality_sum += c.quality_sum;
            rows.push(PartnerCpaView::new(p, &c));
        }
        match page.last() {
            Some(last) if page.len() == 200 => before = Some(last.id),
            _ => break,
        }
    }
    Ok((rows, CpaView::new(&all)))
}
