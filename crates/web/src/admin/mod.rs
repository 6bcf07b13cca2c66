//! The admin API, `/api/admin/...`, behind [`crate::auth::AdminAuth`].

mod analytics;
mod leads;
mod markets;
mod partners;
mod sources;

use crate::AppState;
use axum::{Json, Router};
use serde_json::{json, Map, Value};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .merge(analytics::router())
        .merge(leads::router())
        .merge(markets::router())
        .merge(partners::router())
        .merge(sources::router())
}

/// An object answer, marked successful.
fn success(mut body: Map<String, Value>) -> Json<Value> {
    body.insert("success".into(), json!(true));
    Json(Value::Object(body))
}
