//! The supplier portal, `/supplier`: a source's people (invited by an operator) see their
//! own leads and what became of them — never a partner, never another source's lead —
//! their days' counts and earnings, their integration with its postbacks, and can try a
//! submission that is read like a real one but neither stored nor counted. Times are the
//! operator's (`LEADROUTER_TIMEZONE`), whose day the source's cap counts.

mod integration;
mod pages;

use super::seats::{PortalChrome, SupplierSide, SupplierUser, SUPPLIER_SEAT};
use crate::ui::SupplierError;
use crate::{ApiError, AppState};
use axum::routing::get;
use axum::Router;
use leadrouter_store::sources::Source;

pub(crate) fn router() -> Router<AppState> {
    SUPPLIER_SEAT
        .routes::<SupplierSide>()
        .route("/supplier", get(pages::leads))
        .route("/supplier/", get(pages::leads))
        .route("/supplier/leads/{id}", get(pages::lead))
        .route("/supplier/integration", get(integration::show))
        .route(
            "/supplier/test",
            get(integration::test_page).post(integration::send_test),
        )
}

/// The supplier portal's sections.
const NAV: &[(&str, &str, &str)] = &[
    ("Leads", "/supplier", "leads"),
    ("Integration", "/supplier/integration", "integration"),
    ("Test submission", "/supplier/test", "test"),
];

/// `user`'s source and the chrome of its pages.
async fn chrome(
    state: &AppState,
    user: &SupplierUser,
    section: &'static str,
    title: &str,
) -> Result<(Source, PortalChrome), SupplierError> {
    let source = state
        .store()
        .source(user.owner_id)
        .await?
        .ok_or(ApiError::NotFound("no such source"))?;
    let chrome = PortalChrome {
        title: title.to_string(),
        section,
        owner: source.spec.name.clone(),
        email: user.email.clone(),
        csrf: user.csrf.clone(),
        timezone: state.settings().timezone.clone(),
        seat: &SUPPLIER_SEAT,
        nav: NAV,
    };
    Ok((source, chrome))
}
