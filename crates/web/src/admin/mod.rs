//! The admin API, `/api/admin/...`, behind [`crate::auth::AdminAuth`].

pub(crate) mod analytics;
pub(crate) mod audit;
mod known_contacts;
pub(crate) mod leads;
pub(crate) mod markets;
mod notifications;
mod pacing;
pub(crate) mod partner_test;
pub(crate) mod partners;
pub(crate) mod portal_users;
pub(crate) mod privacy;
mod response_preview;
mod simulate;
pub(crate) mod sources;

use crate::AppState;
use axum::{Json, Router};
use serde_json::Value;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(analytics::router())
        .merge(audit::router())
        .merge(known_contacts::router())
        .merge(leads::router())
        .merge(markets::router())
        .merge(notifications::router())
        .merge(pacing::router())
        .merge(partner_test::router())
        .merge(portal_users::router())
        .merge(partners::router())
        .merge(privacy::router())
        .merge(response_preview::router())
        .merge(simulate::router())
        .merge(sources::router())
}

/// An object answer, marked successful.
/// `{"success": true, ...body}` from a view.
fn reply(body: impl serde::Serialize) -> Json<Value> {
    Json(serde_json::to_value(crate::views::Success::of(body)).unwrap_or_default())
}
