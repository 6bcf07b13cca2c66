//! What the JSON API and the console both do to simulate routing: the lead read as a
//! source would send it (with that source's defaults, when one is named), the moment read,
//! and the engine's simulator asked. Nothing is written.

use crate::{ApiError, AppState};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::lead::{normalize_lead, SourceDefaults};
use leadrouter_core::routing::Considered;
use serde::Serialize;
use serde_json::{Map, Value};

/// The simulator's answer (API.md "Partner rules").
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SimulationView {
    /// `assign`, `hold` or `fail`.
    pub decision: &'static str,
    pub partner_id: Option<i64>,
    #[schema(value_type = Vec<Object>)]
    pub routing: Vec<Considered>,
    /// The moment simulated, RFC 3339.
    pub at: String,
    /// Until when the lead would wait, RFC 3339 (when held).
    pub held_until: Option<String>,
}

/// A moment given as RFC 3339 (`at`), or now.
pub(crate) fn moment(state: &AppState, at: Option<&str>) -> Result<EpochMillis, ApiError> {
    match at.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(state.now_ms()),
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp_millis())
            .map_err(|_| {
                ApiError::validation_one("at", "must be a moment such as 2026-12-07T14:00:00+01:00")
            }),
    }
}

/// Where `lead` would go at `at`: its problems as a source would be told them (each
/// named `lead.<field>`), else the router's decision over today's real counts.
pub(crate) async fn simulate(
    state: &AppState,
    lead: &Map<String, Value>,
    source_id: Option<i64>,
    at: EpochMillis,
) -> Result<SimulationView, ApiError> {
    let (defaults, source_id) = match source_id {
        Some(id) => {
            let source = crate::sources::find(state, id).await.map_err(|e| match e {
                ApiError::NotFound(_) => ApiError::validation_one("source_id", "no such source"),
                other => other,
            })?;
            (
                source.spec.lead_defaults(source.spec.kind.as_str()),
                Some(source.id),
            )
        }
        None => (SourceDefaults::default(), None),
    };
    let catalog = state.catalog().await?;
    let new = normalize_lead(lead, &defaults, &catalog).map_err(|errors| {
        ApiError::Validation(
            errors
                .into_iter()
                .map(|(k, v)| (format!("lead.{k}"), v))
                .collect(),
        )
    })?;
    let s = leadrouter_engine::router::simulate(
        state.store(),
        &new.facts(source_id),
        at,
        state.settings().hold_max,
    )
    .await?;
    Ok(SimulationView {
        decision: s.decision,
        partner_id: s.partner_id,
        routing: s.routing,
        at: leadrouter_core::localtime::rfc3339(at),
        held_until: s.held_until.map(leadrouter_core::localtime::rfc3339),
    })
}
