//! Errors answered to a browser: on the console and the portal a lead or partner that does
//! not exist, a refused change, a throttled login, is an HTML page in that site's chrome that
//! says what went wrong and offers a way back, never the JSON body the API gives scripts.
//!
//! Page handlers return [`PageError`] (the console's), [`PortalError`] or [`SupplierError`]. Errors raised
//! before a handler runs (an extractor shared with the JSON API, an unknown path) and the
//! answer to a visitor whose landing-page form was refused pass through [`html_errors`],
//! which renders them with the same page.

use super::page::render_status;
use crate::error::{ErrorBody, Failure};
use crate::ApiError;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::marker::PhantomData;

/// Which site's page an error is shown in: where its way back leads.
pub(crate) trait Site {
    const BACK: Option<(&'static str, &'static str)>;
}

/// The operators' console.
pub(crate) enum Console {}
/// The partners' portal.
pub(crate) enum Portal {}
/// The suppliers' portal.
pub(crate) enum Supplier {}
/// A landing page's visitor: no site of ours to go back to.
enum Visitor {}

impl Site for Console {
    const BACK: Option<(&'static str, &'static str)> = Some(("/admin", "Back to the console"));
}
impl Site for Portal {
    const BACK: Option<(&'static str, &'static str)> = Some(("/portal", "Back to your leads"));
}
impl Site for Supplier {
    const BACK: Option<(&'static str, &'static str)> = Some(("/supplier", "Back to your leads"));
}
impl Site for Visitor {
    const BACK: Option<(&'static str, &'static str)> = None;
}

/// What went wrong in a page handler, answered as a page of site `S`.
pub(crate) struct PageError<S: Site = Console> {
    error: ApiError,
    site: PhantomData<S>,
}

/// What went wrong in a portal page.
pub(crate) type PortalError = PageError<Portal>;

/// What went wrong in a supplier-portal page.
pub(crate) type SupplierError = PageError<Supplier>;

impl<S: Site> From<ApiError> for PageError<S> {
    fn from(error: ApiError) -> Self {
        PageError {
            error,
            site: PhantomData,
        }
    }
}

impl<S: Site> From<leadrouter_store::StoreError> for PageError<S> {
    fn from(e: leadrouter_store::StoreError) -> Self {
        ApiError::from(e).into()
    }
}

impl<S: Site> From<leadrouter_engine::actions::ActionError> for PageError<S> {
    fn from(e: leadrouter_engine::actions::ActionError) -> Self {
        ApiError::from(e).into()
    }
}

impl<S: Site> IntoResponse for PageError<S> {
    fn into_response(self) -> Response {
        let (status, body) = self.error.described();
        let mut page = error_page::<S>(status, &body);
        if let Some(v) = self.error.retry_after() {
            page.headers_mut().insert(RETRY_AFTER, v);
        }
        page
    }
}

#[derive(askama::Template)]
#[template(path = "error_page.html")]
struct ErrorPage {
    heading: String,
    message: String,
    fields: Vec<(String, String)>,
    back: Option<(&'static str, &'static str)>,
}

/// Who an error answer is for, by the request.
#[derive(Clone, Copy)]
enum Reader {
    Console,
    Portal,
    Supplier,
    Visitor,
}

fn reader_of(req: &Request) -> Option<Reader> {
    let path = req.uri().path();
    if path.starts_with("/admin") && !path.starts_with("/admin/assets") {
        return Some(Reader::Console);
    }
    if path.starts_with("/portal") {
        return Some(Reader::Portal);
    }
    if path.starts_with("/supplier") {
        return Some(Reader::Supplier);
    }
    if req.method() != Method::POST || !path.starts_with("/api/webhook/") {
        return None;
    }
    // Inbound leads pass here: looked at in place, nothing allocated.
    let header = |name| {
        req.headers()
            .get(name)
            .map(|v| v.as_bytes())
            .unwrap_or_default()
    };
    let form = header(CONTENT_TYPE)
        .get(..33)
        .is_some_and(|m| m.eq_ignore_ascii_case(b"application/x-www-form-urlencoded"));
    let html = header(ACCEPT)
        .windows(9)
        .any(|w| w.eq_ignore_ascii_case(b"text/html"));
    (form && html).then_some(Reader::Visitor)
}

pub(crate) async fn html_errors(req: Request, next: Next) -> Response {
    let reader = reader_of(&req);
    let res = next.run(req).await;
    let Some(reader) = reader else { return res };
    let json = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/json"));
    if !json || !(res.status().is_client_error() || res.status().is_server_error()) {
        return res;
    }
    let status = res.status();
    let (mut parts, body) = res.into_parts();
    let body = match to_bytes(body, 64 * 1024).await {
        Ok(b) => serde_json::from_slice::<Failure>(&b).ok(),
        Err(_) => None,
    };
    let body = body.map(|f| f.error).unwrap_or_else(|| ErrorBody {
        code: String::new(),
        message: String::new(),
        fields: None,
    });
    let html = match reader {
        Reader::Console => error_page::<Console>(status, &body),
        Reader::Portal => error_page::<Portal>(status, &body),
        Reader::Supplier => error_page::<Supplier>(status, &body),
        Reader::Visitor => error_page::<Visitor>(status, &body),
    };
    // Keep what the answer said beside its body (Retry-After, Allow).
    let (new_parts, new_body) = html.into_parts();
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.extend(new_parts.headers);
    Response::from_parts(parts, Body::new(new_body))
}

/// The page for an error of `status` described by `body`, in site `S`.
fn error_page<S: Site>(status: StatusCode, body: &ErrorBody) -> Response {
    let heading = match status.as_u16() {
        404 => "Not found",
        422 => "Some fields need another look",
        401 | 403 => "Not allowed",
        429 => "Too many requests",
        s if s >= 500 => "Something went wrong on our side",
        _ => "This did not work",
    };
    let message = match body.message.as_str() {
        "no such endpoint" => "There is no page at this address.",
        m => m,
    };
    let page = ErrorPage {
        heading: heading.to_string(),
        message: sentence(message),
        fields: body
            .fields
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        back: S::BACK,
    };
    render_status(status, &page)
}

/// A message as a sentence: a capital first letter and a full stop.
fn sentence(m: &str) -> String {
    let mut chars = m.trim().chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut s: String = first.to_uppercase().chain(chars).collect();
    if !s.ends_with(['.', '!', '?']) {
        s.push('.');
    }
    s
}
