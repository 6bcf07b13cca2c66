//! The supplier's leads: today against its cap, the last fortnight by day (received, and
//! what became of them, and what they earned), its leads newest first (search by our id or
//! its own `external_id`), and a lead's page with its postbacks. Every read goes through
//! the session's source in SQL; a lead of another source is not found.

use super::chrome;
use crate::ui::seats::{PortalChrome, SupplierUser};
use crate::ui::SupplierError;
use crate::{time, AppState};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use leadrouter_core::money::two_places;
use leadrouter_store::postbacks::PostbackRow;
use leadrouter_store::supplier_reads::{LeadCursor, SupplierDay, SupplierLead};
use serde::Deserialize;

use super::super::page::{render, render_status};

/// Days shown in the table of counts.
const DAYS: i64 = 14;
/// Leads per page.
const PAGE: i64 = 50;

#[derive(Deserialize, Default)]
pub(crate) struct LeadsQuery {
    #[serde(default)]
    q: String,
    /// The last lead of the page before: `<received_at>.<id>`.
    before: Option<String>,
}

/// A day's row: the date and its counts.
struct DayRow {
    day: String,
    n: SupplierDay,
}

#[derive(askama::Template)]
#[template(path = "supplier_leads.html")]
struct LeadsPage {
    chrome: PortalChrome,
    today: SupplierDay,
    /// Accepted today, as the cap counts them, and the cap.
    accepted_today: i64,
    daily_cap: Option<u32>,
    days: Vec<DayRow>,
    total: SupplierDay,
    rows: Vec<SupplierLead>,
    q: String,
    next_before: Option<String>,
}

impl LeadsPage {
    fn when(&self, at: &i64) -> String {
        time::local(*at, &self.chrome.timezone)
    }

    fn money(&self, cents: &i64) -> String {
        two_places(*cents)
    }
}

fn cursor(s: &str) -> Option<LeadCursor> {
    let (at, id) = s.split_once('.')?;
    Some((at.parse().ok()?, id.parse().ok()?))
}

pub(crate) async fn leads(
    State(state): State<AppState>,
    user: SupplierUser,
    crate::extract::QueryOf(q): crate::extract::QueryOf<LeadsQuery>,
) -> Result<Response, SupplierError> {
    let (source, chrome) = chrome(&state, &user, "leads", "Leads").await?;
    let tz = chrome.timezone.clone();
    let now = state.now_ms();
    let today = leadrouter_core::localtime::local_date(&tz, now);
    let today = chrono::NaiveDate::parse_from_str(&today, "%Y-%m-%d").unwrap_or_default();
    let start = |d: chrono::NaiveDate| {
        time::date_start(&d.format("%Y-%m-%d").to_string(), &tz).unwrap_or(0)
    };
    let days: Vec<(String, i64, i64)> = (0..DAYS)
        .rev()
        .map(|back| today - chrono::Duration::days(back))
        .map(|d| {
            (
                d.format("%Y-%m-%d").to_string(),
                start(d),
                start(d + chrono::Duration::days(1)),
            )
        })
        .collect();
    let store = state.store();
    let today_label = today.format("%Y-%m-%d").to_string();
    let (counts, accepted_today, rows) = tokio::try_join!(
        store.supplier_days(source.id, &days),
        store.source_day_count(source.id, &today_label),
        store.supplier_leads(
            source.id,
            Some(&q.q),
            q.before.as_deref().and_then(cursor),
            PAGE
        ),
    )?;
    let mut total = SupplierDay::default();
    let days: Vec<DayRow> = days
        .iter()
        .rev()
        .map(|(day, _, _)| {
            let n = counts.get(day).cloned().unwrap_or_default();
            total.add(&n);
            DayRow {
                day: day.clone(),
                n,
            }
        })
        .collect();
    let next_before = (rows.len() as i64 == PAGE)
        .then(|| {
            rows.last()
                .map(|l| format!("{}.{}", l.received_at, l.lead_id))
        })
        .flatten();
    Ok(render(&LeadsPage {
        today: counts.get(&today_label).cloned().unwrap_or_default(),
        // Without a cap nothing is counted apart: the day's received leads say it.
        accepted_today: if source.spec.daily_cap.is_some() {
            accepted_today
        } else {
            counts.get(&today_label).map_or(0, |d| d.received)
        },
        daily_cap: source.spec.daily_cap,
        days,
        total,
        rows,
        q: q.q,
        next_before,
        chrome,
    }))
}

#[derive(askama::Template)]
#[template(path = "supplier_lead.html")]
struct LeadPage {
    chrome: PortalChrome,
    lead: SupplierLead,
    postbacks: Vec<PostbackRow>,
}

impl LeadPage {
    fn when(&self, at: &i64) -> String {
        time::local(*at, &self.chrome.timezone)
    }

    fn money(&self, cents: &i64) -> String {
        two_places(*cents)
    }
}

#[derive(askama::Template)]
#[template(path = "supplier_missing.html")]
struct Missing {
    chrome: PortalChrome,
}

pub(crate) async fn lead(
    State(state): State<AppState>,
    user: SupplierUser,
    crate::extract::PathParts(id): crate::extract::PathParts<String>,
) -> Result<Response, SupplierError> {
    let id = id.trim().trim_start_matches('#').parse::<i64>().ok();
    let found = match id {
        Some(id) => state.store().supplier_lead(user.owner_id, id).await?,
        None => None,
    };
    let Some(lead) = found else {
        let (_, chrome) = chrome(&state, &user, "leads", "No such lead").await?;
        return Ok(render_status(StatusCode::NOT_FOUND, &Missing { chrome }));
    };
    let (_, chrome) = chrome(&state, &user, "leads", &format!("Lead #{}", lead.lead_id)).await?;
    let postbacks = state
        .store()
        .supplier_lead_postbacks(user.owner_id, lead.lead_id)
        .await?;
    Ok(render(&LeadPage {
        chrome,
        lead,
        postbacks,
    }))
}
