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

/// The admin API's operations, as `crate::openapi` publishes them.
#[derive(utoipa::OpenApi)]
#[openapi(paths(
    analytics::analytics,
    audit::list,
    audit::revert,
    known_contacts::upload,
    known_contacts::total,
    known_contacts::clear,
    leads::list,
    leads::show,
    leads::retry,
    leads::assign,
    leads::rejections,
    markets::list_markets,
    markets::create_market,
    markets::list_niches,
    markets::create_niche,
    notifications::list,
    pacing::pacing,
    partner_test::send_test,
    partners::create,
    partners::list,
    partners::show,
    partners::update,
    partners::remove,
    partners::pause,
    partners::resume,
    partners::rotate_key,
    partners::rotate_secret,
    portal_users::docs::partner_invite,
    portal_users::docs::partner_users,
    portal_users::docs::partner_remove,
    portal_users::docs::partner_reinvite,
    portal_users::docs::supplier_invite,
    portal_users::docs::supplier_users,
    portal_users::docs::supplier_remove,
    portal_users::docs::supplier_reinvite,
    privacy::erase,
    privacy::notices,
    privacy::evidence,
    response_preview::check,
    simulate::run,
    sources::create,
    sources::list,
    sources::show,
    sources::update,
    sources::remove,
    sources::rotate_token,
    sources::postbacks,
))]
pub(crate) struct AdminApi;

/// An object answer, marked successful.
/// `{"success": true, ...body}` from a view.
fn reply(body: impl serde::Serialize) -> Json<Value> {
    Json(serde_json::to_value(crate::views::Success::of(body)).unwrap_or_default())
}
