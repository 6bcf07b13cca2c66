//! Request extractors whose rejections speak API.md's error shape (axum's own answer in
//! plain text).

use crate::{ApiError, AppState};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};

/// A JSON object body. 415 without a JSON content type, 413 over the size limit, 422 for
/// anything that is not a JSON object.
pub struct JsonObject(pub Map<String, Value>);

pub(crate) fn is_json(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| m == "application/json" || m.ends_with("+json"))
}

pub(crate) async fn body_bytes(req: Request, state: &AppState) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::validation_one("body", "could not read the request body")
        }
    })
}

impl FromRequest<AppState> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let ct = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if !is_json(ct.as_deref()) {
            return Err(ApiError::UnsupportedMediaType(
                "send a JSON body with Content-Type: application/json".into(),
            ));
        }
        let bytes = body_bytes(req, state).await?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(JsonObject(map)),
            Ok(_) => Err(ApiError::validation_one("body", "must be a JSON object")),
            Err(e) => Err(ApiError::validation_one(
                "body",
                format!("is not valid JSON: {e}"),
            )),
        }
    }
}

/// A numeric id in the path; anything else is simply not found.
pub struct PathId(pub i64);

impl FromRequestParts<AppState> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("not found"))?;
        raw.parse::<i64>()
            .ok()
            .filter(|id| *id > 0)
            .map(PathId)
            .ok_or(ApiError::NotFound("not found"))
    }
}

/// Several parts of the path (`{id}/users/{user_id}`, `{id}/{decision}`); one that does not
/// read as its type is simply not found, in the API's error shape (axum's own rejection
/// would answer a plain-text 400).
pub struct PathParts<T>(pub T);

impl<T> FromRequestParts<AppState> for PathParts<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(t)| PathParts(t))
            .map_err(|_| ApiError::NotFound("not found"))
    }
}

/// The query string read into `T`; one that cannot be (a value of the wrong kind, a name
/// given twice) is a 422 naming `query`, in the API's error shape (axum's own rejection
/// would answer a plain-text 400).
pub struct QueryOf<T>(pub T);

impl<T> FromRequestParts<AppState> for QueryOf<T>
where
    T: serde::de::DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(t)| QueryOf(t))
            .map_err(|e| ApiError::validation_one("query", e.body_text()))
    }
}

pub const DEFAULT_PAGE: i64 = 50;
pub const MAX_PAGE: i64 = 200;

/// `?limit=&before=` for newest-first lists.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub before: Option<i64>,
}

/// The query of a newest-first list, as the API documents it (what [`Page`] reads).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(crate) struct PageQuery {
    /// Up to 200; 50 when not given.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_before` of the previous page.
    before: Option<i64>,
}

#[derive(Deserialize)]
struct RawPage {
    limit: Option<String>,
    before: Option<String>,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Query(raw) = Query::<RawPage>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::validation_one("query", "malformed query string"))?;
        let limit = match raw.limit.as_deref() {
            None | Some("") => DEFAULT_PAGE,
            Some(l) => l
                .parse::<i64>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| {
                    ApiError::validation_one("limit", format!("must be from 1 to {MAX_PAGE}"))
                })?,
        };
        let before = match raw.before.as_deref() {
            None | Some("") => None,
            Some(b) => Some(
                b.parse::<i64>()
                    .map_err(|_| ApiError::validation_one("before", "must be an id"))?,
            ),
        };
        Ok(Page { limit, before })
    }
}

impl Page {
    /// The `next_before` of a page: the last id when the page is full.
    pub fn next_before(
        &self,
        ids: impl DoubleEndedIterator<Item = i64> + ExactSizeIterator,
    ) -> Value {
        let len = ids.len() as i64;
        match ids.last() {
            Some(last) if len == self.limit => Value::from(last),
            _ => Value::Null,
        }
    }
}
