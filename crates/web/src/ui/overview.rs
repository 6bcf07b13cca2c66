//! The overview: today's leads (the operator's day), what waits, partners at or near their
//! cap, partners failing, and the latest leads.

use super::page::{render, Chrome};
use super::partners::PartnerRow;
use super::session::Operator;
use super::time;
use crate::admin::partners::with_today;
use crate::{ApiError, AppState};
use axum::extract::State;
use axum::response::Response;
use leadrouter_store::console::Overview;
use leadrouter_store::leads::LeadFilter;

/// A partner counts as near its cap from this share of its limit.
const NEAR_CAP_PERCENT: i64 = 80;

#[derive(askama::Template)]
#[template(path = "overview.html")]
struct OverviewPage {
    chrome: Chrome,
    o: Overview,
    oldest: String,
    near_cap: Vec<PartnerRow>,
    failing: Vec<PartnerRow>,
    recent: Vec<(i64, String, String, String, String)>,
}

impl OverviewPage {
    fn today(&self, status: &str) -> i64 {
        self.o.today_by_status.get(status).copied().unwrap_or(0)
    }

    fn received(&self) -> i64 {
        self.o.today_by_status.values().sum()
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    op: Operator,
) -> Result<Response, ApiError> {
    let now = state.now_ms();
    let o = state
        .store()
        .overview(time::start_of_day(now, &op.timezone))
        .await?;
    let partners = state.store().list_partners(500, None).await?;
    let views = with_today(&state, &partners).await?;
    let health = state
        .store()
        .partner_health(
            &partners.iter().map(|p| p.id).collect::<Vec<_>>(),
            now - super::partners::HEALTH_WINDOW_MS,
        )
        .await?;
    let rows: Vec<PartnerRow> = views
        .into_iter()
        .map(|p| PartnerRow {
            h: health.get(&p.id).copied().unwrap_or_default(),
            p,
        })
        .collect();
    let (mut near_cap, mut failing) = (Vec::new(), Vec::new());
    for r in rows {
        if r.h.failing_streak > 0 || r.p.status == "paused" {
            failing.push(r);
        } else if r.p.today.total * 100 >= i64::from(r.p.daily_limit) * NEAR_CAP_PERCENT {
            near_cap.push(r);
        }
    }
    let recent = state
        .store()
        .list_leads(&LeadFilter {
            limit: 10,
            ..LeadFilter::default()
        })
        .await?
        .into_iter()
        .map(|l| {
            (
                l.id,
                time::local(l.received_at, &op.timezone),
                l.email.clone().unwrap_or_default(),
                format!("{} / {}", l.country, l.niche),
                l.status.as_str().to_string(),
            )
        })
        .collect();
    Ok(render(&OverviewPage {
        chrome: Chrome::new(&op, "overview", "Overview"),
        oldest: time::local_opt(o.oldest_waiting, &op.timezone),
        o,
        near_cap,
        failing,
        recent,
    }))
}
