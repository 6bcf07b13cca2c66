//! A partner's page in the console: its settings, today's count, recent deliveries (in
//! the partner's time and the operator's), and its buttons: pause / resume, send a test
//! lead, rotate the API key or the signing secret.

use super::flash::Flash;
use super::form::Posted;
use super::page::{render, Chrome};
use super::partner_form::PartnerForm;
use crate::extract::PathId;
use crate::operator::Operator;
use crate::partners::{self as api, PartnerAnswer};
use crate::test_lead::TestAttempt;
use crate::time;
use crate::ui::PageError;
use crate::views::PartnerView;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use leadrouter_engine::actions;
use leadrouter_store::deliveries::DeliveryRow;
use std::collections::BTreeMap;

fn secrets_of(a: &PartnerAnswer) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(k) = &a.api_key {
        out.push(("API key".to_string(), k.clone()));
    }
    if let Some(s) = &a.signing_secret {
        out.push(("Signing secret".to_string(), s.clone()));
    }
    out
}

/// To the partner's page, which shows `notice` and `answer`'s secrets this once.
pub(super) fn to_partner(
    state: &AppState,
    op: &Operator,
    answer: &PartnerAnswer,
    notice: &str,
) -> Response {
    let path = format!("/admin/partners/{}", answer.partner.id);
    let warnings = answer.warnings.clone().unwrap_or_default();
    let notice = std::iter::once(notice.to_string())
        .chain(warnings)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
    super::flash::redirect_with(
        state,
        op,
        &path,
        (!notice.is_empty()).then_some(notice),
        secrets_of(answer),
    )
}

#[derive(askama::Template)]
#[template(path = "partner.html")]
struct ShowPage {
    chrome: Chrome,
    p: PartnerView,
    flash: Flash,
    test: Option<TestAttempt>,
    deliveries: Vec<DeliveryRow>,
    users: Vec<leadrouter_store::portal::Member>,
    pacing: leadrouter_core::pacing::Pacing,
    /// Until when the API key before the last rotation still works (when it does now).
    old_key_until: Option<i64>,
    /// Its price per lead, written with its currency (`LEADROUTER_CURRENCY`).
    price: Option<String>,
    /// Deliveries it answered as people it already had, in the last 30 days.
    duplicates: i64,
    /// People it has told us it has (or answered a duplicate for).
    known_contacts: i64,
}

impl ShowPage {
    fn local(&self, at: &i64) -> String {
        time::local(*at, &self.p.timezone)
    }

    /// When a cap's or budget's window starts afresh, in the partner's clock.
    fn afresh(&self, l: &leadrouter_core::windows::Line) -> String {
        match l.resets_at {
            Some(t) => format!("afresh {}", self.local(&t)),
            None => "for ever".into(),
        }
    }

    /// The caps and budgets as set: `hourly cap 20, daily budget 500.00`.
    fn limits_text(&self) -> String {
        self.p
            .limits
            .iter()
            .map(|l| format!("{} {} {}", l.window, l.kind, l.limit_text))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn yours(&self, at: &i64) -> String {
        time::local(*at, &self.chrome.timezone)
    }

    fn members_base(&self) -> String {
        format!("/admin/partners/{}/users", self.p.id)
    }

    fn members_empty(&self) -> &'static str {
        "Nobody of this partner has portal access yet."
    }

    fn members_placeholder(&self) -> &'static str {
        "someone@partner.com"
    }

    /// When the daily limit will be reached at today's pace, said in the partner's time
    /// (and the operator's, when it differs).
    fn pace_note(&self) -> String {
        let pc = &self.pacing;
        let when = |at: i64| {
            let theirs = time::local(at, &self.p.timezone);
            if self.p.timezone == self.chrome.timezone {
                theirs
            } else {
                format!("{theirs} (your time {})", self.yours(&at))
            }
        };
        let mut note = if pc.cap_reached {
            "the daily limit is reached".to_string()
        } else if let Some(at) = pc.cap_reached_at {
            format!("at this pace the limit is reached at {}", when(at))
        } else {
            "at this pace the limit is not reached today".to_string()
        };
        if let Some(at) = pc.next_opening {
            note.push_str(&format!("; closed now, opens {}", when(at)));
        }
        note
    }

    fn hours(&self) -> String {
        if self.p.business_hours.is_none() {
            return "always open".into();
        }
        let form = PartnerForm::of(&self.p);
        let days: Vec<String> = form
            .hours
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .map(|(d, h)| format!("{d} {h}"))
            .collect();
        if days.is_empty() {
            "never open".into()
        } else {
            days.join(" · ")
        }
    }

    fn pairs(map: &BTreeMap<String, String>) -> String {
        map.iter()
            .map(|(k, v)| format!("{k} → {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn mapping(&self) -> String {
        Self::pairs(&self.p.field_mapping)
    }

    fn defaults(&self) -> String {
        self.p
            .default_values
            .iter()
            .map(|(k, v)| {
                format!(
                    "{k} = {}",
                    v.as_str().map_or_else(|| v.to_string(), str::to_string)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Its filters in words: `amount_lost gte 1000 · fraud_type in crypto, forex`.
    fn filters_text(&self) -> String {
        self.p
            .filters
            .iter()
            .map(|f| {
                let value = match &f.value {
                    None => String::new(),
                    Some(serde_json::Value::Array(items)) => format!(
                        " {}",
                        items
                            .iter()
                            .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    Some(v) => format!(
                        " {}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_string)
                    ),
                };
                format!("{} {}{value}", f.field, f.op)
            })
            .collect::<Vec<_>>()
            .join(" · ")
    }

    fn auth(&self) -> String {
        match self.p.auth["type"].as_str() {
            None => "none".into(),
            Some("basic") => format!(
                "basic, user {}",
                self.p.auth["username"].as_str().unwrap_or_default()
            ),
            Some("header") => format!(
                "header {}",
                self.p.auth["name"].as_str().unwrap_or_default()
            ),
            Some(other) => other.to_string(),
        }
    }
}

async fn show_page(
    state: &AppState,
    op: &Operator,
    id: i64,
    test: Option<TestAttempt>,
) -> Result<Response, PageError> {
    let partner = api::find(state, id).await?;
    let p = api::one(state, &partner).await?;
    let flash = state
        .flashes()
        .take(&op.session_hash, &format!("/admin/partners/{id}"));
    let deliveries = state.store().partner_deliveries(id, 20).await?;
    let users = state
        .store()
        .list_members(leadrouter_store::portal::Portal::Partner, id)
        .await?;
    let pacing = leadrouter_core::pacing::pace(
        partner.spec.business_hours.as_ref(),
        &partner.spec.timezone,
        p.today.total,
        partner.spec.daily_limit,
        state.now_ms(),
    );
    let old_key_until = partner
        .previous_api_key_until
        .filter(|until| *until > state.now_ms());
    let month_ago = state.now_ms() - 30 * 86_400_000;
    let (duplicates, known_contacts) = tokio::try_join!(
        state.store().partner_duplicates_since(id, month_ago),
        state.store().known_contacts_total(id),
    )?;
    Ok(render(&ShowPage {
        duplicates,
        known_contacts,
        price: partner.spec.price_per_lead_cents.map(|c| {
            format!(
                "{}.{:02} {}",
                c / 100,
                c.rem_euclid(100),
                state.settings().currency
            )
        }),
        old_key_until,
        pacing,
        users,
        chrome: Chrome::new(op, "partners", p.name.clone()),
        p,
        flash,
        test,
        deliveries,
    }))
}

pub(super) async fn show(
    State(state): State<AppState>,
    op: Operator,
    PathId(id): PathId,
) -> Result<Response, PageError> {
    show_page(&state, &op, id, None).await
}

fn back(state: &AppState, op: &Operator, id: i64, notice: &str) -> Response {
    super::flash::redirect_with_notice(state, op, &format!("/admin/partners/{id}"), notice)
}

pub(super) async fn pause(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    actions::pause_partner(
        state.store(),
        state.signals(),
        state.mailing(),
        id,
        "paused by an operator",
        state.now_ms(),
        &posted.op.actor(),
    )
    .await?
    .ok_or(ApiError::NotFound("no such partner"))?;
    Ok(back(
        &state,
        &posted.op,
        id,
        "Partner paused: its waiting leads go to another partner that can take them, else wait (held) for Resume.",
    ))
}

pub(super) async fn resume(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    actions::resume_partner(
        state.store(),
        state.signals(),
        id,
        state.now_ms(),
        &posted.op.actor(),
    )
    .await?;
    Ok(back(&state, &posted.op, id, "Partner resumed."))
}

/// Sends a test lead and shows the attempt on the partner's page (htmx swaps in only
/// that panel; a plain post gets the whole page).
pub(super) async fn test(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let result = crate::test_lead::test_partner(&state, id).await?;
    show_page(&state, &posted.op, id, Some(result.attempt)).await
}

pub(super) async fn rotate_key(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    // The console offers: the old key stops now (a leak) or works 24 more hours.
    let hours = match posted.fields.text("old_key").as_str() {
        "overlap" => 24,
        _ => 0,
    };
    let answer = api::rotate_partner_key(&state, id, hours, &posted.op.actor()).await?;
    let notice = if hours > 0 {
        "New API key: the old one keeps working for 24 hours, then stops."
    } else {
        "New API key: the old one no longer works."
    };
    Ok(to_partner(&state, &posted.op, &answer, notice))
}

pub(super) async fn rotate_secret(
    State(state): State<AppState>,
    PathId(id): PathId,
    posted: Posted,
) -> Result<Response, PageError> {
    let answer = api::rotate_partner_secret(&state, id, &posted.op.actor()).await?;
    Ok(to_partner(
        &state,
        &posted.op,
        &answer,
        "New signing secret: deliveries are signed with it from now on.",
    ))
}
