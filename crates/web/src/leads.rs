//! Leads as the JSON API and the console both ask for them: a query's filter checked
//! (an unknown status or country is a 422 naming the field), a lead looked up, and an
//! operator's assignment with what the operator should know before it (the SSRF guard
//! refuses; a passed cap, a paused partner or another market warn).

use crate::webhook_dns::{check_webhook_host, DnsVerdict};
use crate::{ApiError, AppState};
use leadrouter_core::webhook_url::parse_webhook_url;
use leadrouter_engine::actions::{self, Assigned, NotAssigned};
use leadrouter_store::leads::{LeadFilter, LeadRecord, LeadStatus};
use leadrouter_store::partners::{Partner, PartnerStatus};
use serde::Deserialize;

#[derive(Deserialize, Default, Clone, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ListQuery {
    #[param(value_type = Option<LeadStatusName>)]
    pub status: Option<String>,
    pub country: Option<String>,
    pub niche: Option<String>,
    #[param(value_type = Option<i64>)]
    pub partner_id: Option<String>,
    #[param(value_type = Option<i64>)]
    pub source_id: Option<String>,
    pub q: Option<String>,
}

/// A lead's status, as the API's filter names it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub(crate) enum LeadStatusName {
    Queued,
    Held,
    Assigned,
    Delivered,
    Failed,
    Expired,
    Duplicate,
    Returned,
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

/// The filter a lead query asks for, each value checked (an unknown status or country is
/// a 422 naming the field).
pub(crate) async fn lead_filter(
    state: &AppState,
    q: ListQuery,
    limit: i64,
    before: Option<i64>,
) -> Result<LeadFilter, ApiError> {
    let status = opt(q.status);
    if let Some(s) = &status {
        if LeadStatus::parse(s).is_none() {
            return Err(ApiError::validation_one(
                "status",
                format!(
                    "must be one of: {}",
                    leadrouter_core::status::listed(LeadStatus::ALL, LeadStatus::as_str)
                ),
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
        held_reason: None,
        from: None,
        until: None,
        limit,
        before,
    };
    Ok(filter)
}

pub(crate) async fn find_lead(state: &AppState, id: i64) -> Result<LeadRecord, ApiError> {
    state
        .store()
        .lead(id)
        .await?
        .ok_or(ApiError::NotFound("no such lead"))
}

/// Puts a held, failed or expired lead back into routing (partners already tried stay
/// excluded).
/// An operator's assignment of `lead` to a partner, with what the operator should know
/// (the SSRF guard refuses; a passed cap, a paused partner or another market warn).
pub(crate) async fn assign_to(
    state: &AppState,
    lead: &LeadRecord,
    partner_id: i64,
) -> Result<(Assigned, Vec<String>), ApiError> {
    let partner = state
        .store()
        .partner(partner_id)
        .await?
        .ok_or_else(|| ApiError::validation_one("partner_id", "no such partner"))?;
    let mut warnings = assignment_checks(state, lead, &partner).await?;
    let assigned = actions::assign_lead(
        state.store(),
        state.signals(),
        lead,
        &partner,
        state.now_ms(),
    )
    .await?;
    match assigned {
        Ok(a) => {
            if let Some(total) = a.over_cap {
                warnings.push(format!(
                    "the partner is over its daily limit: {total}/{} today",
                    partner.spec.daily_limit
                ));
            }
            Ok((a, warnings))
        }
        Err(NotAssigned::AlreadyTried) => Err(ApiError::Conflict(
            "this partner already had this lead".into(),
        )),
        Err(NotAssigned::NotAssignable) => Err(ApiError::Conflict(format!(
            "the lead is {}; only queued, held, failed, expired or duplicate leads can be assigned",
            lead.status.as_str()
        ))),
    }
}

/// What an operator should know before a lead goes to this partner; an error if its
/// webhook must never be reached.
async fn assignment_checks(
    state: &AppState,
    lead: &LeadRecord,
    partner: &Partner,
) -> Result<Vec<String>, ApiError> {
    let allow = &state.settings().allow;
    let mut warnings = Vec::new();
    let webhook = parse_webhook_url(&partner.spec.webhook_url, allow).map_err(|problem| {
        ApiError::validation_one("partner_id", format!("the partner's webhook_url {problem}"))
    })?;
    match check_webhook_host(state, &webhook).await {
        DnsVerdict::Allowed => {}
        DnsVerdict::Blocked(problem) => {
            return Err(ApiError::validation_one(
                "partner_id",
                format!("the partner's webhook_url {problem}"),
            ))
        }
        DnsVerdict::Unresolved(name) => warnings.push(format!(
            "webhook host {name} does not resolve now; delivery will retry"
        )),
    }
    if partner.status != PartnerStatus::Active {
        warnings.push("the partner is paused; the delivery waits until it is resumed".to_string());
    }
    if partner.spec.country != lead.country || partner.spec.niche != lead.niche {
        warnings.push(format!(
            "the partner serves {}/{}; the lead is {}/{}",
            partner.spec.country, partner.spec.niche, lead.country, lead.niche
        ));
    }
    Ok(warnings)
}
