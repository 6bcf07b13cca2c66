//! Operations endpoints: liveness, readiness, and `/metrics` for Prometheus.

use crate::views::Health;
use crate::AppState;
use axum::extract::State;
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use subtle::ConstantTimeEq;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

/// The figures in the text exposition format, for whoever holds
/// `LEADROUTER_METRICS_TOKEN` (they tell volumes, partners' health and logins: not for
/// everyone); without a token set, only when `LEADROUTER_METRICS_PUBLIC=1` says so.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "done", body = String), (status = 401, description = "the metrics token is missing or wrong", body = crate::error::Failure)), security(("metrics" = [])))]
async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let settings = state.settings();
    match &settings.metrics_token {
        Some(token) => {
            let given = headers
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split_once(' '))
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                .map(|(_, t)| t.trim());
            let ok =
                given.is_some_and(|g| bool::from(g.as_bytes().ct_eq(token.expose().as_bytes())));
            if !ok {
                return crate::ApiError::Unauthorized("send Authorization: Bearer <metrics token>")
                    .into_response();
            }
        }
        None if settings.metrics_public => {}
        None => {
            return crate::ApiError::Unauthorized(
                "metrics need LEADROUTER_METRICS_TOKEN (or LEADROUTER_METRICS_PUBLIC=1)",
            )
            .into_response()
        }
    }
    state.refresh_waiting_gauges().await;
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
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "done", body = crate::views::Health)))]
async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        reason: None,
    })
}

/// The process can do its work: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses((status = 200, description = "done", body = crate::views::Health), (status = 503, description = "the database cannot be reached", body = crate::views::Health)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    match state.store().ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                reason: None,
            }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Health {
                    status: "unavailable",
                    reason: Some("database"),
                }),
            )
        }
    }
}
