//! The admin API, `/api/admin/...`, behind [`crate::auth::AdminAuth`].

mod analytics;
mod leads;
mod markets;
mod partners;
mod sources;

use crate::AppState;
use axum::Router;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(analytics::router())
        .merge(leads::router())
        .merge(markets::router())
        .merge(partners::router())
        .merge(sources::router())
}
