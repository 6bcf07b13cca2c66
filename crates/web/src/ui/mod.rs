//! The operator's console, `/admin`: server-rendered pages (askama templates over the
//! typed views the JSON API answers with), htmx for partial updates, every action also a
//! plain form post. Sessions, CSRF and login throttling live in [`session`].

mod analytics;
mod assets;
pub(crate) mod audit;
mod catalog;
mod chart;
pub(crate) mod client;
mod deliveries;
pub(crate) mod errors;
pub(crate) use errors::{PageError, PortalError, SupplierError};
mod filter_rows;
pub(crate) mod flash;
mod form;
mod lead_page;
mod leads;
mod members;
mod overview;
mod page;
mod partner_form;
mod partner_page;
mod partners;
mod portal;
mod privacy;
mod reply_rules;
mod returns;
mod seats;
pub(crate) mod session;
mod simulate;
mod sources;
mod supplier;
mod users;

use crate::AppState;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
    X_FRAME_OPTIONS,
};
use axum::http::HeaderValue;
use axum::routing::{get, post};
use axum::Router;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/assets/{file}", get(assets::serve))
        .route(
            "/admin/login",
            get(session::login_page).post(session::login),
        )
        .route(
            "/admin/setup",
            get(session::setup_page).post(session::setup),
        )
        .route("/admin/logout", post(session::logout))
        .route("/admin", get(overview::page))
        .route("/admin/", get(overview::page))
        .merge(partners::router())
        .merge(members::router())
        .merge(leads::router())
        .merge(deliveries::router())
        .merge(returns::router())
        .merge(audit::router())
        .merge(sources::router())
        .merge(catalog::router())
        .merge(users::router())
        .merge(analytics::router())
        .merge(privacy::router())
        .merge(simulate::router())
        .merge(portal::router())
        .merge(supplier::router())
        .layer(axum::middleware::map_response(security_headers))
}

/// Every console answer: a strict CSP (no inline script or style), no framing, no MIME
/// sniffing, no referrer beyond our origin, never cached.
async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    let h = res.headers_mut();
    h.insert(
        CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
        ),
    );
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
