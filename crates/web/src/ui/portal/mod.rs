//! The partner portal, `/portal`: partner users log in (invited by an operator) and see
//! only their own partner's leads, attempts, returns and conversions.

mod integration;
mod pages;

use super::seats::{PartnerSide, PARTNER_SEAT};
use crate::AppState;
use axum::routing::{get, post};
use axum::Router;

pub(crate) fn router() -> Router<AppState> {
    PARTNER_SEAT
        .routes::<PartnerSide>()
        .route("/portal", get(pages::leads))
        .route("/portal/", get(pages::leads))
        .route("/portal/leads/{id}", get(pages::lead))
        .route(
            "/portal/returns",
            get(pages::returns).post(pages::request_return),
        )
        .route("/portal/conversions", get(pages::conversions))
        .route("/portal/test", get(pages::test_page).post(pages::send_test))
        .route("/portal/integration", get(integration::show))
        .route("/portal/integration/rotate", post(integration::rotate))
        .route("/portal/integration/check", post(integration::check))
}
