//! A test lead as the JSON API and the console both show it (the engine sends it).

use crate::partners::find;
use crate::{ApiError, AppState};
use leadrouter_core::localtime::rfc3339;
use serde::Serialize;
use serde_json::Value;

/// A test lead's attempt, as the operator sees it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct TestAttempt {
    pub at: String,
    /// The same instant, for pages that say it in a person's timezone.
    #[serde(skip)]
    pub at_ms: i64,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub outcome: &'static str,
    pub response_excerpt: Option<String>,
    /// What the partner's `response` rules took from the answer.
    pub partner_lead_id: Option<String>,
    pub redirect_url: Option<String>,
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct TestResult {
    pub attempt: TestAttempt,
    pub payload: Value,
}

/// Sends a test lead to the partner now and says how it went.
pub(crate) async fn test_partner(state: &AppState, id: i64) -> Result<TestResult, ApiError> {
    let partner = find(state, id).await?;
    let now = state.now_ms();
    let t = leadrouter_engine::actions::send_test_lead(state.sender(), &partner, now).await;
    Ok(TestResult {
        attempt: TestAttempt {
            at: rfc3339(now),
            at_ms: now,
            status_code: t.result.status_code,
            latency_ms: t.result.latency.as_millis() as u64,
            error: t.result.error,
            outcome: t.outcome,
            response_excerpt: t.result.excerpt,
            partner_lead_id: t.reply.partner_lead_id,
            redirect_url: t.reply.redirect_url,
            reason: t.reply.reason,
        },
        payload: Value::Object(t.payload),
    })
}
