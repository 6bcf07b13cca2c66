//! What every console page has around its content (navigation, the operator, the CSRF
//! token for its forms), and rendering a template into a response.

use crate::operator::Operator;
use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// The frame of a page: which section is open and who is looking.
pub(crate) struct Chrome {
    pub title: String,
    pub section: &'static str,
    pub email: String,
    pub csrf: String,
    pub timezone: String,
    /// Whether this operator may change things (an admin): pages hide the buttons of a
    /// viewer, whose posts are refused anyway.
    pub admin: bool,
}

impl Chrome {
    pub fn new(op: &Operator, section: &'static str, title: impl Into<String>) -> Chrome {
        Chrome {
            title: title.into(),
            section,
            email: op.email.clone(),
            csrf: op.csrf.clone(),
            timezone: op.timezone.clone(),
            admin: op.role.may_change(),
        }
    }

    /// What the shared layout asks of its frame (the portal's answers differ).
    pub fn console(&self) -> bool {
        true
    }

    pub fn brand(&self) -> &str {
        "leadrouter"
    }

    pub fn home(&self) -> &'static str {
        "/admin"
    }

    pub fn logout(&self) -> &'static str {
        "/admin/logout"
    }

    pub fn page_title(&self) -> String {
        self.title.clone()
    }

    /// The navigation: (label, path, section).
    pub fn nav(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &[
            ("Overview", "/admin", "overview"),
            ("Partners", "/admin/partners", "partners"),
            ("Leads", "/admin/leads", "leads"),
            (
                "Deliveries",
                "/admin/deliveries?status=failed",
                "deliveries",
            ),
            ("Returns", "/admin/returns", "returns"),
            ("Sources", "/admin/sources", "sources"),
            ("Rejected", "/admin/rejected", "rejected"),
            ("Markets", "/admin/markets", "markets"),
            ("Simulate", "/admin/simulate", "simulate"),
            ("Analytics", "/admin/analytics", "analytics"),
            ("Notifications", "/admin/notifications", "notifications"),
            ("Audit", "/admin/audit", "audit"),
            ("Privacy", "/admin/privacy", "privacy"),
            ("Users", "/admin/users", "users"),
            ("Settings", "/admin/settings", "settings"),
        ]
    }
}

pub(crate) fn render(t: &impl Template) -> Response {
    render_status(StatusCode::OK, t)
}

pub(crate) fn render_status(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
