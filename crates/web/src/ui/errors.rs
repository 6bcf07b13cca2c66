//! Pages for pages: an error answered to a browser on the console or the portal (a lead or
//! partner that does not exist, a path that does not), and to a visitor whose landing-page
//! form was refused, is an HTML page that says what went wrong and offers a way back,
//! never the JSON body the API gives scripts. The JSON API keeps its shape.

use super::page::render_status;
use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

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
    /// A person who sent a landing page's form from a browser.
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
    let body: Value = match to_bytes(body, 64 * 1024).await {
        Ok(b) => serde_json::from_slice(&b).unwrap_or_default(),
        Err(_) => Value::Null,
    };
    let error = &body["error"];
    let fields: Vec<(String, String)> = error["fields"]
        .as_object()
        .map(|f| {
            f.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default();
    let heading = match status.as_u16() {
        404 => "Not found",
        422 => "Some fields need another look",
        401 | 403 => "Not allowed",
        429 => "Too many requests",
        s if s >= 500 => "Something went wrong on our side",
        _ => "This did not work",
    };
    let message = match error["message"].as_str() {
        Some("no such endpoint") => "There is no page at this address.",
        Some(m) => m,
        None => "",
    };
    let page = ErrorPage {
        heading: heading.to_string(),
        message: sentence(message),
        fields,
        back: match reader {
            Reader::Console => Some(("/admin", "Back to the console")),
            Reader::Portal => Some(("/portal", "Back to your leads")),
            Reader::Visitor => None,
        },
    };
    let html = render_status(status, &page);
    // Keep what the answer said beside its body (Retry-After, Allow).
    let (new_parts, new_body) = html.into_parts();
    parts.headers.remove(CONTENT_TYPE);
    parts.headers.extend(new_parts.headers);
    Response::from_parts(parts, Body::new(new_body))
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
