//! Who a browser request comes from: its address (behind the proxies named in
//! `LEADROUTER_TRUSTED_PROXIES`), and whether a login-type form was posted from another
//! site.

use super::form::Fields;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::Response;
use std::convert::Infallible;
use std::net::SocketAddr;

/// The client's address as the throttle counts it.
pub(crate) struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        let Some(peer) = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
        else {
            return Ok(ClientAddr("unknown".into()));
        };
        let forwarded: Vec<&str> = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let ip = leadrouter_core::login::client_address(
            peer,
            &forwarded,
            &state.settings().trusted_proxies,
        );
        Ok(ClientAddr(ip.to_string()))
    }
}

/// Whether a form post comes from another site: what the browser says in
/// `Sec-Fetch-Site`, else an `Origin` that is not this host. A request with neither (a
/// script, an old browser) is not a browser carried by another site.
pub(crate) fn cross_site(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    let Some(origin) = headers.get("origin").and_then(|o| o.to_str().ok()) else {
        return false;
    };
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    let origin_host = origin
        .split_once("://")
        .map(|(_, rest)| rest)
        .unwrap_or("null");
    !origin_host.eq_ignore_ascii_case(host)
}

/// The fields of a form that opens a session (login, first-run setup, an invitation's
/// password): refused with 403 when another site posted it, so that no foreign page can
/// log a browser into an account of its choosing.
pub(crate) struct DoorFields(pub Fields);

impl<S: Send + Sync> FromRequest<S> for DoorFields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        if cross_site(req.headers()) {
            tracing::warn!("a login form posted from another site was refused");
            return Err(super::form::forbidden());
        }
        Ok(DoorFields(Fields::from_request(req, state).await?))
    }
}
