//! Returns over HTTP: the partner API (`POST /api/return/{partner_id}` to return a delivered
//! lead, `GET` for its own returns and their decisions) and the admin API
//! (`GET /api/admin/returns?status=`, `POST /api/admin/returns/{id}/approve` and `/decline`
//! with a remark). The console's Returns page decides through [`decide`] too.

use crate::auth::AdminAuth;
use crate::extract::{JsonObject, Page};
use crate::partner_api::{own_path, PartnerKey};
use crate::views::ReturnView;
use crate::views::{ReturnDecided, ReturnList, ReturnRequested, Success};
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use leadrouter_core::returns::validate_return;
use leadrouter_core::status::ReturnStatus;
use leadrouter_store::returns::{NotReturnable, ReturnRow};
use serde::Deserialize;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/return/{partner_id}",
            post(request).get(partner_returns),
        )
        .route("/api/admin/returns", get(list))
        .route("/api/admin/returns/{id}/{decision}", post(decide_one))
}

/// A partner returns a lead delivered to it.
#[utoipa::path(post, path = "/api/return/{partner_id}", tag = "partner API", params(("partner_id" = i64, Path, description = "the partner's id (its own)")), request_body(content = Object, content_type = "application/json", description = "a JSON object; API.md names its fields"), responses((status = 201, description = "created", body = crate::views::ReturnRequested)), security(("partner_key" = [])))]
async fn request(
    State(state): State<AppState>,
    PartnerKey(partner): PartnerKey,
    crate::extract::PathParts(partner_id): crate::extract::PathParts<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Success<ReturnRequested>>), ApiError> {
    own_path(&partner, &partner_id)?;
    let req = validate_return(&body).map_err(ApiError::Validation)?;
    let window = state.settings().return_window_ms;
    match state
        .store()
        .request_return(partner.id, &req, window, state.now_ms())
        .await?
    {
        Ok(id) => {
            tracing::info!(
                partner_id = partner.id,
                lead_id = req.lead_id,
                return_id = id,
                "return requested"
            );
            Ok((
                StatusCode::CREATED,
                Json(Success::of(ReturnRequested {
                    return_id: id,
                    status: ReturnStatus::Pending.as_str(),
                })),
            ))
        }
        Err(NotReturnable::NotDelivered) => Err(ApiError::NotFound(
            "no lead with this id was delivered to you",
        )),
        Err(NotReturnable::PastWindow) => Err(ApiError::validation_one(
            "lead_id",
            format!(
                "was delivered more than {} ago: past the return window",
                window_words(window)
            ),
        )),
        Err(NotReturnable::AlreadyReturned) => Err(ApiError::Conflict(
            "this lead has already been returned".into(),
        )),
    }
}

/// A window as said to a person: `7 days`, `36 hours`.
fn window_words(ms: i64) -> String {
    const HOUR: i64 = 3_600_000;
    match ms {
        ms if ms % (24 * HOUR) == 0 && ms > 0 => format!("{} days", ms / (24 * HOUR)),
        ms => format!("{} hours", ms / HOUR),
    }
}

/// The partner's own returns, newest first, with the operator's decisions.
#[utoipa::path(get, path = "/api/return/{partner_id}", tag = "partner API", params(("partner_id" = i64, Path, description = "the partner's id (its own)")), responses((status = 200, description = "done", body = crate::views::ReturnList)), security(("partner_key" = [])))]
async fn partner_returns(
    State(state): State<AppState>,
    PartnerKey(partner): PartnerKey,
    crate::extract::PathParts(partner_id): crate::extract::PathParts<String>,
    page: Page,
) -> Result<Json<Success<ReturnList>>, ApiError> {
    own_path(&partner, &partner_id)?;
    let rows = state
        .store()
        .list_returns(None, Some(partner.id), page.before, page.limit)
        .await?;
    Ok(Json(Success::of(ReturnList {
        returns: rows.iter().map(ReturnView::new).collect(),
    })))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct Q {
    #[param(value_type = Option<ReturnStatusName>)]
    status: Option<String>,
}

/// A return's status, as the API's filter names it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
enum ReturnStatusName {
    Pending,
    Approved,
    Declined,
}

/// `status` as a filter: empty = any.
pub(crate) fn status_filter(s: Option<&str>) -> Result<Option<ReturnStatus>, ApiError> {
    match s.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => ReturnStatus::parse(s).map(Some).ok_or_else(|| {
            ApiError::validation_one("status", "must be one of: pending, approved, declined")
        }),
    }
}

#[utoipa::path(get, path = "/api/admin/returns", tag = "returns", params(Q), responses((status = 200, description = "done", body = crate::views::ReturnList)), security(("admin" = [])))]
async fn list(
    _: AdminAuth,
    State(state): State<AppState>,
    page: Page,
    crate::extract::QueryOf(q): crate::extract::QueryOf<Q>,
) -> Result<Json<Success<ReturnList>>, ApiError> {
    let rows = state
        .store()
        .list_returns(
            status_filter(q.status.as_deref())?,
            None,
            page.before,
            page.limit,
        )
        .await?;
    Ok(Json(Success::of(ReturnList {
        returns: rows.iter().map(ReturnView::new).collect(),
    })))
}

/// Who decided, as recorded with the decision.
pub(crate) fn actor(auth: &AdminAuth) -> String {
    match auth {
        AdminAuth::Token { token_id, .. } => format!("admin token #{token_id}"),
        AdminAuth::Session { user_id, .. } => format!("admin user #{user_id}"),
    }
}

/// Approves or declines a pending return; an approval may free the partner's slot, so its
/// market's held leads are looked at again.
pub(crate) async fn decide(
    state: &AppState,
    id: i64,
    approve: bool,
    remark: Option<&str>,
    actor: &str,
) -> Result<ReturnRow, ApiError> {
    let remark = remark.map(str::trim).filter(|r| !r.is_empty());
    if remark.is_some_and(|r| r.chars().count() > leadrouter_core::returns::NOTE_MAX) {
        return Err(ApiError::validation_one(
            "remark",
            "must be at most 1000 characters",
        ));
    }
    let now = state.now_ms();
    let decided = state
        .store()
        .decide_return(id, approve, remark, actor, now)
        .await?;
    let Some(decided) = decided else {
        return match state.store().find_return(id, None).await? {
            Some(r) => Err(ApiError::Conflict(format!(
                "this return is already {}",
                r.status
            ))),
            None => Err(ApiError::NotFound("no such return")),
        };
    };
    tracing::info!(
        return_id = id,
        lead_id = decided.lead_id,
        partner_id = decided.partner_id,
        approve,
        slot_given_back = decided.slot_given_back,
        "return decided"
    );
    if decided.slot_given_back {
        if let Some(p) = state.store().partner(decided.partner_id).await? {
            leadrouter_engine::actions::partner_changed(
                state.store(),
                state.signals(),
                &p.spec,
                now,
            )
            .await?;
        }
    }
    state
        .store()
        .find_return(id, None)
        .await?
        .ok_or(ApiError::NotFound("no such return"))
}

#[derive(Deserialize, Default)]
struct Remark {
    remark: Option<String>,
}

/// `POST /api/admin/returns/{id}/approve` or `/decline`, with an optional remark.
#[utoipa::path(post, path = "/api/admin/returns/{id}/{decision}", tag = "returns", params(("id" = i64, Path, description = "the record's id"), ("decision" = String, Path, description = "`approve` or `decline`")), request_body(content = Option<Object>, content_type = "application/json", description = "optional {\"remark\"}"), responses((status = 200, description = "done", body = crate::views::ReturnDecided)), security(("admin" = [])))]
async fn decide_one(
    auth: AdminAuth,
    State(state): State<AppState>,
    crate::extract::PathParts((id, decision)): crate::extract::PathParts<(i64, String)>,
    body: axum::body::Bytes,
) -> Result<Json<Success<ReturnDecided>>, ApiError> {
    let approve = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(ApiError::NotFound("no such action")),
    };
    // The body is optional: none rejects or approves without a remark.
    let remark = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        serde_json::from_slice::<Remark>(&body)
            .map_err(|_| {
                ApiError::validation_one(
                    "body",
                    "must be a JSON object, with an optional \"remark\"",
                )
            })?
            .remark
    };
    let r = decide(&state, id, approve, remark.as_deref(), &actor(&auth)).await?;
    Ok(Json(Success::of(ReturnDecided {
        decided: ReturnView::new(&r),
    })))
}
