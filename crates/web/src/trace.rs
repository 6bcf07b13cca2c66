//! Request logging. Only the route *template* is logged (`/api/webhook/{token}`), never the
//! raw path or query: source tokens and Facebook verify tokens travel in URLs, and lead
//! data must never reach the logs.

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// Logs the request and counts it by route template and status (`/metrics`).
pub(crate) async fn log_request(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    let latency_us = started.elapsed().as_micros() as u64;
    state.signals().metrics().http(&route, status);
    if status >= 500 {
        tracing::warn!(%method, route, status, latency_us, "request");
    } else {
        tracing::debug!(%method, route, status, latency_us, "request");
    }
    response
}
