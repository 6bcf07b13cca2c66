//! A source's `wait_for_delivery`: the inbound request waits for its lead's first outcome
//! (delivered, held, failed, expired) up to the source's seconds, woken by the lead's own
//! notification, and answers what came of it: the partner's lead id and its autologin URL
//! when delivered.

use crate::{ApiError, AppState};
use leadrouter_core::status::{DeliveryStatus, LeadStatus};
use std::time::Duration;
use tokio::time::{timeout_at, Instant};

/// What came of a lead the request waited for.
pub(crate) struct Outcome {
    pub status: LeadStatus,
    pub partner_lead_id: Option<String>,
    pub redirect_url: Option<String>,
}

/// When a waiting request reads its lead's state itself: soon after it is taken in (most
/// leads reach their partner within tens of milliseconds), then at longer intervals up to
/// the longest.
const FIRST_LOOK: Duration = Duration::from_millis(20);
const LONGEST_LOOK: Duration = Duration::from_millis(200);

/// Waits up to `seconds` for lead `id` to come to rest; none when the time ran out first.
pub(crate) async fn wait_for_outcome(
    state: &AppState,
    id: i64,
    seconds: u8,
) -> Result<Option<Outcome>, ApiError> {
    let deadline = Instant::now() + Duration::from_secs(u64::from(seconds));
    let wait = state.signals().wait_for_outcome(id);
    let mut look_again = FIRST_LOOK;
    loop {
        // The wake-up is taken before the look, so an outcome between them is not missed.
        let woken = wait.next();
        tokio::pin!(woken);
        woken.as_mut().enable();
        // The partner took it: answered from what it said, not read back.
        if let Some(said) = wait.delivered() {
            return Ok(Some(Outcome {
                status: LeadStatus::Delivered,
                partner_lead_id: said.partner_lead_id,
                redirect_url: said.redirect_url,
            }));
        }
        if let Some(done) = outcome(state, id).await? {
            return Ok(Some(done));
        }
        // Another instance may route and deliver the lead (with several instances, or this
        // one taking leads in only): its outcome wakes nothing here, so the store is looked
        // at again, soon and then every 200 ms.
        let next_look = (Instant::now() + look_again).min(deadline);
        look_again = (look_again * 2).min(LONGEST_LOOK);
        if timeout_at(next_look, woken).await.is_err() && Instant::now() >= deadline {
            // One last look.
            return outcome(state, id).await;
        }
    }
}

/// The lead's outcome, if it has come to rest.
async fn outcome(state: &AppState, id: i64) -> Result<Option<Outcome>, ApiError> {
    let Some(lead) = state.store().lead(id).await? else {
        return Ok(None);
    };
    let status = lead.status;
    if !matches!(
        status,
        LeadStatus::Delivered | LeadStatus::Held | LeadStatus::Failed | LeadStatus::Expired
    ) {
        return Ok(None);
    }
    let mut done = Outcome {
        status,
        partner_lead_id: None,
        redirect_url: None,
    };
    if status == LeadStatus::Delivered {
        let deliveries = state.store().lead_deliveries(id).await?;
        if let Some(d) = deliveries
            .iter()
            .rev()
            .find(|d| d.status == DeliveryStatus::Delivered)
        {
            done.partner_lead_id = d.said.partner_lead_id.clone();
            done.redirect_url = d.said.redirect_url.clone();
        }
    }
    Ok(Some(done))
}
