//! The one error type of the HTTP layer, answered in API.md's shape:
//! `{"success": false, "error": {"code", "message", "fields"?}}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use leadrouter_store::StoreError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("request body is larger than 64 KiB")]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// One message per offending field, all reported at once.
    #[error("validation failed")]
    Validation(BTreeMap<String, String>),
    #[error("too many requests")]
    RateLimited { retry_after_secs: u64 },
    /// A limit of the caller's reached (a source's daily cap): 429 with its own words.
    #[error("{message}")]
    LimitReached {
        message: String,
        retry_after_secs: u64,
    },
    /// The database cannot be reached now: 503 with `Retry-After`, nothing was stored.
    #[error("the service is unavailable for a moment; try again shortly")]
    Unavailable,
    /// Logged with its context; the client sees only a bare 500.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn validation_one(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(BTreeMap::from([(field.to_string(), message.into())]))
    }

    pub fn internal(context: &str, e: impl std::fmt::Display) -> Self {
        ApiError::Internal(format!("{context}: {e}"))
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Validation(_) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
            ApiError::RateLimited { .. } | ApiError::LimitReached { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "rate_limited")
            }
            ApiError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound("not found"),
            StoreError::Conflict(what) => ApiError::Conflict(format!("{what} already exists")),
            down if down.is_unavailable() => {
                tracing::warn!(error = %down, "request refused: the database is unavailable");
                ApiError::Unavailable
            }
            other => ApiError::internal("store", other),
        }
    }
}

impl From<leadrouter_engine::actions::ActionError> for ApiError {
    fn from(e: leadrouter_engine::actions::ActionError) -> Self {
        use leadrouter_engine::actions::ActionError as A;
        match e {
            A::NotFound(what) => ApiError::NotFound(what),
            A::Invalid(fields) => ApiError::Validation(fields),
            A::Conflict(what) => ApiError::Conflict(what),
            A::Store(e) => ApiError::from(e),
        }
    }
}

/// The `error` of a failed answer: a code, a sentence, and per field what is wrong.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<BTreeMap<String, String>>,
}

/// `{"success": false, "error": {...}}`.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Failure {
    pub success: bool,
    pub error: ErrorBody,
}

impl ApiError {
    /// The status and the body a client is told; an internal error is logged here with
    /// its detail, which the client never sees.
    pub(crate) fn described(&self) -> (StatusCode, ErrorBody) {
        let (status, code) = self.status_and_code();
        let mut body = ErrorBody {
            code: code.to_string(),
            message: self.to_string(),
            fields: None,
        };
        match self {
            ApiError::Internal(detail) => {
                tracing::error!(error = %detail, "request failed");
                body.message = "internal server error".into();
            }
            ApiError::Validation(fields) => {
                let list: Vec<&str> = fields.keys().map(String::as_str).collect();
                body.message = format!("invalid fields: {}", list.join(", "));
                body.fields = Some(fields.clone());
            }
            _ => {}
        }
        (status, body)
    }

    /// `Retry-After` for a throttled request.
    pub(crate) fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            ApiError::RateLimited { retry_after_secs }
            | ApiError::LimitReached {
                retry_after_secs, ..
            } => HeaderValue::from_str(&(*retry_after_secs).max(1).to_string()).ok(),
            ApiError::Unavailable => Some(HeaderValue::from_static("1")),
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error) = self.described();
        let failure = Failure {
            success: false,
            error,
        };
        let mut response = (status, Json(failure)).into_response();
        if let Some(v) = self.retry_after() {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint")
}
