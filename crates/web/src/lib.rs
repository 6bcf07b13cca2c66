//! leadrouter's HTTP layer. Each area is a module with `router()`; [`app`] merges them.
//! Handlers stay thin: they parse, call the store or a core rule, and shape the answer.

mod admin;
pub(crate) mod audit_query;
pub mod auth;
mod error;
pub mod extract;
mod facebook;
mod inbound;
pub(crate) mod invitations;
pub(crate) mod leads;
pub(crate) mod markets;
pub mod openapi;
mod operator;
mod ops;
pub mod partner_api;
pub(crate) mod partners;
pub mod password;
pub(crate) mod privacy;
pub(crate) mod replies;
pub(crate) mod report;
mod returns;
mod roles;
pub mod secrets;
pub(crate) mod simulation;
pub(crate) mod sources;
mod state;
pub(crate) mod test_lead;
pub(crate) mod time;
mod trace;
mod ui;
pub mod views;
mod waiting;
mod webhook_dns;

use axum::extract::DefaultBodyLimit;
use axum::Router;

pub use error::ApiError;
pub use state::{AppDeps, AppState, WebSettings};

/// Largest request body accepted anywhere (API.md: bodies over 64 KiB get 413).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// The whole HTTP application.
/// Behind an https public URL every answer tells browsers to come back over https only
/// for a year (a first plain-http request cannot be downgraded on a hostile network).
async fn strict_transport(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut res: axum::response::Response,
) -> axum::response::Response {
    if state.settings().https() {
        res.headers_mut().insert(
            axum::http::header::STRICT_TRANSPORT_SECURITY,
            axum::http::HeaderValue::from_static("max-age=31536000"),
        );
    }
    res
}

pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(ops::router())
        .merge(openapi::router())
        .merge(admin::router())
        .merge(ui::router())
        .merge(inbound::router())
        .merge(facebook::router())
        .merge(partner_api::router())
        .merge(returns::router())
        .fallback(error::not_found)
        .layer(axum::middleware::from_fn(ui::errors::html_errors))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            trace::log_request,
        ))
        .layer(axum::middleware::map_response_with_state(
            state.clone(),
            strict_transport,
        ))
        .with_state(state)
}
