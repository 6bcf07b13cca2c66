//! `GET /api/admin/notifications?kind=&status=`: the mails queued, sent, failed or only
//! recorded, newest first.

use crate::auth::AdminAuth;
use crate::extract::Page;
use crate::views::NotificationView;
use crate::views::{NotificationList, Success};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/api/admin/notifications", get(list))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Q {
    kind: Option<String>,
    status: Option<String>,
}

#[utoipa::path(get, path = "/api/admin/notifications", tag = "notifications", params(Q, crate::extract::PageQuery), responses((status = 200, description = "done", body = crate::views::NotificationList)), security(("admin" = [])))]
async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
    crate::extract::QueryOf(q): crate::extract::QueryOf<Q>,
) -> Result<Json<Success<NotificationList>>, ApiError> {
    let some = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let rows = state
        .store()
        .list_notifications(
            some(&q.kind).as_deref(),
            some(&q.status).as_deref(),
            page.limit,
        )
        .await?;
    let items: Vec<NotificationView> = rows.iter().map(NotificationView::new).collect();
    Ok(Json(Success::of(NotificationList {
        notifications: items,
    })))
}
