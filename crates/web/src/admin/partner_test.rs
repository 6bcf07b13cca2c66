//! `POST /api/admin/partners/{id}/test`: a test lead through the same path as real
//! deliveries (payload, signature, SSRF guard, client), and the attempt it made. Nothing is
//! stored.

use crate::auth::AdminAuth;
use crate::extract::PathId;
use crate::partners::find;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use leadrouter_core::localtime::rfc3339;
use leadrouter_core::outcome::{classify, Attempted, Verdict};
use leadrouter_core::routing::LeadFacts;
use leadrouter_core::source::LeadType;
use leadrouter_core::transform::payload;
use serde::Serialize;
use serde_json::{json, Map, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/partners/{id}/test", post(send_test))
}

/// Sends a test lead through the same path as real deliveries (payload, signature, SSRF
/// guard, client) and returns the attempt. Nothing is stored.
pub(super) async fn send_test(
    _: AdminAuth,
    State(state): State<AppState>,
    PathId(id): PathId,
) -> Result<Json<Value>, ApiError> {
    let test = test_partner(&state, id).await?;
    Ok(Json(json!({
        "success": true,
        "attempt": test.attempt,
        "payload": test.payload,
    })))
}

/// A test lead's attempt, as the operator sees it.
#[derive(Debug, Clone, Serialize)]
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
}

pub(crate) struct TestResult {
    pub attempt: TestAttempt,
    pub payload: Value,
}

/// Sends a test lead to the partner now and says how it went.
pub(crate) async fn test_partner(state: &AppState, id: i64) -> Result<TestResult, ApiError> {
    let partner = find(state, id).await?;
    let mut custom = Map::new();
    for field in &partner.spec.required_fields {
        custom.insert(field.clone(), json!("test"));
    }
    let facts = LeadFacts {
        lead_type: LeadType::Premium,
        first_name: Some("Test"),
        last_name: Some("Lead"),
        email: Some("test.lead@example.com"),
        phone: Some("+4915112345678"),
        phone_valid: true,
        country: &partner.spec.country,
        niche: &partner.spec.niche,
        source_label: Some("leadrouter_test"),
        custom_fields: &custom,
    };
    let msg_id = format!("test-{}", state.now_ms());
    let body = payload(&msg_id, &facts, state.now_ms(), &partner.spec);
    let r = state
        .sender()
        .send(
            &partner.spec,
            &partner.signing_secrets(state.now_ms()),
            &msg_id,
            &body,
        )
        .await;
    let outcome = match r.attempted {
        Attempted::Blocked => "blocked",
        Attempted::Unsendable => "rejected",
        Attempted::Answer(answer) => match classify(answer) {
            Verdict::Delivered => "delivered",
            Verdict::Retry => "would retry",
            Verdict::Rejected | Verdict::RejectedAndPause => "rejected",
        },
    };
    tracing::info!(partner_id = id, outcome, "test lead sent");
    let now = state.now_ms();
    Ok(TestResult {
        attempt: TestAttempt {
            at: rfc3339(now),
            at_ms: now,
            status_code: r.status_code,
            latency_ms: r.latency.as_millis() as u64,
            error: r.error,
            outcome,
            response_excerpt: r.excerpt,
        },
        payload: Value::Object(body),
    })
}
