//! A lead's page in the console: the lead, why it went where it went (every partner
//! considered, with its reason), every delivery with every attempt, conversions and
//! history, and the Retry and Assign buttons.

use super::flash::Flash;
use super::form::Posted;
use super::page::{render, Chrome};
use crate::extract::PathId;
use crate::leads::{assign_to, find_lead};
use crate::operator::Operator;
use crate::time;
use crate::ui::PageError;
use crate::views::LeadView;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use leadrouter_engine::actions;
use leadrouter_store::conversions::{ConversionRow, LeadEvent};
use leadrouter_store::deliveries::{Attempt, DeliveryRow};

pub(crate) struct AttemptRow {
    pub at: String,
    pub status_code: String,
    pub latency_ms: i64,
    pub outcome: String,
    pub error: String,
    pub excerpt: String,
    /// The body exactly as sent, or why it is not shown.
    pub sent: Option<String>,
}

pub(crate) struct DeliveryBlock {
    pub d: DeliveryRow,
    pub partner: String,
    pub created: String,
    pub attempts: Vec<AttemptRow>,
}

#[derive(askama::Template)]
#[template(path = "lead.html")]
struct ShowPage {
    chrome: Chrome,
    lead: LeadView,
    received: String,
    custom: Vec<(String, String)>,
    routing: Vec<(String, bool, String)>,
    deliveries: Vec<DeliveryBlock>,
    conversions: Vec<(String, String, String, String)>,
    /// Each return with when it was asked, in the operator's time.
    returns: Vec<(leadrouter_store::returns::ReturnRow, String)>,
    history: Vec<(String, String, String)>,
    partners: Vec<(i64, String)>,
    flash: Flash,
    can_retry: bool,
    can_assign: bool,
    /// Consent evidence with its time in the operator's timezone.
    consent: Option<(leadrouter_core::consent::Consent, String)>,
    erased: String,
    /// The source it came from: (id, name).
    source: Option<(i64, String)>,
}

fn attempt_row(a: &Attempt, tz: &str) -> AttemptRow {
    AttemptRow {
        at: time::local(a.at, tz),
        status_code: a.status_code.map_or_else(|| "—".into(), |c| c.to_string()),
        latency_ms: a.latency_ms,
        outcome: a.outcome.as_str().to_string(),
        error: a.error.clone().unwrap_or_default(),
        excerpt: a.response_excerpt.clone().unwrap_or_default(),
        sent: a.request_body.clone(),
    }
}

fn conversion_row(c: &ConversionRow, tz: &str) -> (String, String, String, String) {
    (
        time::local(c.created_at, tz),
        c.conversion_type.clone(),
        leadrouter_core::money::Money(c.value_cents).to_string(),
        c.external_transaction_id.clone(),
    )
}

fn event_row(
    e: &LeadEvent,
    tz: &str,
    names: &std::collections::HashMap<i64, String>,
) -> (String, String, String) {
    (
        time::local(e.at, tz),
        e.status.clone(),
        partners_named(e.detail.as_deref().unwrap_or_default(), names),
    )
}

/// The partner ids a history line names ("partner 7"), in order.
fn partner_ids_in(text: &str) -> Vec<i64> {
    text.match_indices("partner ")
        .filter_map(|(i, m)| {
            let digits: String = text[i + m.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        })
        .collect()
}

/// A history line with each "partner 7" written as the partner's name.
fn partners_named(text: &str, names: &std::collections::HashMap<i64, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("partner ") {
        let (before, after) = rest.split_at(i + "partner ".len());
        out.push_str(before);
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        match digits.parse::<i64>().ok().and_then(|id| names.get(&id)) {
            Some(name) => {
                out.push_str(name);
                rest = &after[digits.len()..];
            }
            None => rest = after,
        }
    }
    out.push_str(rest);
    out
}

/// The routing explanation as rows: (partner, eligible, reason).
fn routing_rows(view: &LeadView) -> Vec<(String, bool, String)> {
    view.routing
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["partner_name"].as_str().unwrap_or_default().to_string(),
                        e["eligible"].as_bool().unwrap_or(false),
                        e["reason"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Custom fields as (name, text). The guide's inbound `lead_id` and `timestamp` are the
/// source's own id and time for the lead, and are said so (they are not our lead id).
fn custom_rows(view: &LeadView) -> Vec<(String, String)> {
    view.custom_fields
        .iter()
        .map(|(k, v)| {
            let name = match k.as_str() {
                "lead_id" => "The source's lead id (lead_id)".to_string(),
                "timestamp" => "Sent by the source at (timestamp)".to_string(),
                _ => k.clone(),
            };
            (
                name,
                v.as_str().map_or_else(|| v.to_string(), str::to_string),
            )
        })
        .collect()
}

pub(super) async fn show(
    State(state): State<AppState>,
    op: Operator,
    PathId(id): PathId,
) -> Result<Response, PageError> {
    let tz = op.timezone.clone();
    let lead = find_lead(&state, id).await?;
    let history = state.store().lead_events(id).await?;
    let delivered = state.store().lead_deliveries(id).await?;
    // Every partner the page names, deleted ones too.
    let mut ids: Vec<i64> = delivered.iter().map(|d| d.partner_id).collect();
    for e in &history {
        ids.extend(partner_ids_in(e.detail.as_deref().unwrap_or_default()));
    }
    ids.sort_unstable();
    ids.dedup();
    let names = state.store().partner_names(&ids).await?;
    let source = state
        .store()
        .source(lead.source_id)
        .await?
        .map(|s| (lead.source_id, s.spec.name));
    let mut deliveries = Vec::new();
    for d in delivered {
        let attempts = state.store().delivery_attempts(d.id).await?;
        deliveries.push(DeliveryBlock {
            partner: names
                .get(&d.partner_id)
                .cloned()
                .unwrap_or_else(|| format!("#{}", d.partner_id)),
            created: time::local(d.created_at, &tz),
            attempts: attempts.iter().map(|a| attempt_row(a, &tz)).collect(),
            d,
        });
    }
    let conversions = state.store().lead_conversions(id).await?;
    let returns = state.store().lead_returns(id).await?;
    let consent = state.store().lead_consent(&lead).await?.map(|c| {
        let given = time::local_opt(c.given_at, &tz);
        (c, given)
    });
    let erased = time::local_opt(lead.erased_at, &tz);
    let view = LeadView::new(&lead);
    let (routing, custom) = (routing_rows(&view), custom_rows(&view));
    // "Assign" offers the partners of the lead's own market (an operator may still send
    // it elsewhere through the API, which checks the same rules).
    let mut partners: Vec<(i64, String)> = state
        .store()
        .list_partners(1000, None)
        .await?
        .into_iter()
        .filter(|p| p.spec.country == lead.country && p.spec.niche == lead.niche)
        .map(|p| (p.id, p.spec.name))
        .collect();
    partners.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(render(&ShowPage {
        chrome: Chrome::new(&op, "leads", format!("Lead #{id}")),
        received: time::local(lead.received_at, &tz),
        can_retry: lead.status.retryable(),
        can_assign: lead.status.assignable(),
        lead: view,
        custom,
        routing,
        deliveries,
        conversions: conversions.iter().map(|c| conversion_row(c, &tz)).collect(),
        returns: returns
            .into_iter()
            .map(|r| {
                let at = time::local(r.created_at, &tz);
                (r, at)
            })
            .collect(),
        history: history.iter().map(|e| event_row(e, &tz, &names)).collect(),
        source,
        partners,
        consent,
        erased,
        flash: state
            .flashes()
            .take(&op.session_hash, &format!("/admin/leads/{id}")),
    }))
}

fn back(state: &AppState, op: &Operator, id: i64, notice: String) -> Response {
    super::flash::redirect_with_notice(state, op, &format!("/admin/leads/{id}"), notice)
}

pub(super) async fn retry(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let lead = find_lead(&state, id).await?;
    let notice = if actions::retry_lead(state.store(), state.signals(), id, state.now_ms()).await? {
        "The lead is back in routing.".to_string()
    } else {
        format!(
            "Only held, failed or expired leads can be retried; this one is {}.",
            lead.status.as_str()
        )
    };
    Ok(back(&state, &posted.op, id, notice))
}

pub(super) async fn assign(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let lead = find_lead(&state, id).await?;
    let notice = match posted.fields.text("partner_id").parse::<i64>() {
        Err(_) => "Choose a partner to assign the lead to.".to_string(),
        Ok(partner_id) => match assign_to(&state, &lead, partner_id).await {
            Ok((_, warnings)) => std::iter::once("Lead assigned.".to_string())
                .chain(warnings)
                .collect::<Vec<_>>()
                .join(" · "),
            Err(ApiError::Conflict(m)) => format!("Not assigned: {m}."),
            Err(ApiError::Validation(e)) => format!(
                "Not assigned: {}.",
                e.values().cloned().collect::<Vec<_>>().join("; ")
            ),
            Err(e) => return Err(e.into()),
        },
    };
    Ok(back(&state, &posted.op, id, notice))
}

/// Erases the person of this lead (by its e-mail and phone): every lead of theirs, with the
/// notices to the partners that received them.
pub(super) async fn erase(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let lead = find_lead(&state, id).await?;
    let mut input = serde_json::Map::new();
    for (k, v) in [("email", &lead.email), ("phone", &lead.phone)] {
        if let Some(v) = v {
            input.insert(k.into(), serde_json::Value::String(v.clone()));
        }
    }
    let notice = if input.is_empty() {
        "This lead has no e-mail or phone left to erase.".to_string()
    } else {
        let done = crate::privacy::erase_contact(&state, &input, &posted.op.actor()).await?;
        crate::privacy::erased_text(&done)
    };
    Ok(back(&state, &posted.op, id, notice))
}

/// The lead's evidence document (as the admin API's), to download.
pub(super) async fn evidence(
    State(state): State<AppState>,
    _: Operator,
    PathId(id): PathId,
) -> Result<Response, PageError> {
    Ok(crate::privacy::evidence_download(&state, id).await?)
}
