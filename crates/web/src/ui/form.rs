//! Form posts: the fields of an `application/x-www-form-urlencoded` body, and [`Posted`],
//! a form from a logged-in operator whose CSRF token matched (else 403).

use crate::operator::Operator;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// A form's fields in the order sent (a name may repeat: key/value rows, checkboxes).
#[derive(Debug, Default, Clone)]
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &[u8]) -> Fields {
        Fields(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field trimmed, empty if absent.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().trim().to_string()
    }

    /// Every value of a repeated field.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some_and(|v| !v.is_empty())
    }
}

impl<S: Send + Sync> FromRequest<S> for Fields {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Fields::parse(&body))
    }
}

/// The answer to a post without the session's CSRF token.
pub(crate) fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html("<!doctype html><title>Forbidden</title><p>This form has expired or did not come from this console. Go back, reload the page and try again.</p>"),
    )
        .into_response()
}

/// A session whose forms carry a CSRF token: the operator's, or a partner user's.
pub(crate) trait FormSession: FromRequestParts<AppState> + Send + Sized {
    fn csrf_ok(&self, token: Option<&str>) -> bool;
}

impl FormSession for Operator {
    fn csrf_ok(&self, token: Option<&str>) -> bool {
        Operator::csrf_ok(self, token)
    }
}

/// A form posted in a live session (`op`: the operator, or the partner user), its CSRF
/// token checked: else 403, and without a session the session's login page.
pub(crate) struct Posted<S = Operator> {
    pub op: S,
    pub fields: Fields,
}

impl<S> FromRequest<AppState> for Posted<S>
where
    S: FormSession,
    S::Rejection: IntoResponse,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let op = S::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let req = Request::from_parts(parts, body);
        let fields = Fields::from_request(req, state).await?;
        if !op.csrf_ok(fields.get("_csrf")) {
            tracing::warn!("form post without a valid CSRF token");
            return Err(forbidden());
        }
        Ok(Posted { op, fields })
    }
}
