//! Operations endpoints: liveness, readiness, and `/metrics` for Prometheus.

use crate::AppState;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The figures in the text exposition format; behind `LEADROUTER_METRICS_TOKEN` when set.
/// The waiting-leads gauges are read from the database at each scrape.
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.settings().metrics_token {
        let given = headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let ok = given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.expose().as_bytes())));
        if !ok {
            return crate::ApiError::Unauthorized("send Authorization: Bearer <metrics token>")
                .into_response();
        }
    }
    match state.store().lead_status_counts().await {
        Ok(counts) => {
            for status in ["queued", "held", "assigned"] {
                state
                    .signals()
                    .metrics()
                    .waiting(status, counts.get(status).copied().unwrap_or(0));
            }
        }
        Err(e) => tracing::warn!(error = %e, "reading queue depths for /metrics failed"),
    }
    (
        [(
            CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.signals().metrics().encode(),
    )
        .into_response()
}

/// The process is up and serving HTTP.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// The process can do its work: the database answers.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store().ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ok" }))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "database" })),
            )
        }
    }
}
