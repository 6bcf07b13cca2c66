//! A failed attempt's consequences for its partner: the failure streak (and its one
//! "failing" mail), and pausing.

use super::{DeliveryWorker, FAILING_ALERT_AFTER};
use crate::actions::pause_partner;
use crate::mail;
use leadrouter_store::partners::Partner;
use leadrouter_store::StoreError;

impl DeliveryWorker {
    /// Counts a failure in the partner's streak; the streak's third failure queues its one
    /// `partner_failing` mail (to the partner, operators copied), quoting `what` it was.
    pub(super) async fn count_failure(
        &self,
        partner: &Partner,
        lead_id: i64,
        now: i64,
        what: &str,
        excerpt: Option<&str>,
    ) -> Result<(), StoreError> {
        let alert_after = FAILING_ALERT_AFTER.min(self.settings.pause_after_failures);
        let streak = self
            .store
            .count_partner_failure(partner.id, now, alert_after, &|| {
                mail::failing(
                    &self.mailing.ctx,
                    partner.id,
                    &partner.spec,
                    what,
                    excerpt.map(|e| (lead_id, e)),
                    alert_after,
                )
                .into_iter()
                .collect()
            })
            .await?;
        if streak >= alert_after {
            self.signals.mail_queued();
        }
        if streak >= self.settings.pause_after_failures {
            self.pause(
                partner,
                &format!("{streak} failed deliveries in a row"),
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// A pause that came while this attempt was in flight skipped its delivery (the
    /// pause withdraws only the waiting ones); now that it waits for its retry, it is
    /// withdrawn like them (failed, if the partner was deleted). Read after the retry is
    /// committed, so either the pause's own sweep saw it waiting or this read sees the
    /// pause: no delivery waits on a paused partner.
    pub(super) async fn withdraw_if_paused(
        &self,
        d: &leadrouter_store::deliveries::ClaimedDelivery,
        now: i64,
    ) -> Result<(), StoreError> {
        use leadrouter_core::status::DeliveryStatus;
        let ended = match self.store.partner(d.partner_id).await? {
            None => Some((DeliveryStatus::Failed, "the partner was deleted")),
            Some(p) if p.status == leadrouter_store::partners::PartnerStatus::Paused => {
                Some((DeliveryStatus::Withdrawn, "the partner was paused"))
            }
            Some(_) => None,
        };
        if let Some((status, why)) = ended {
            if self
                .store
                .end_delivery_unsuccessfully(d.id, status, why, now)
                .await?
            {
                self.signals.routing_changed();
            }
        }
        Ok(())
    }

    /// Pauses a partner, alerts, and sends its waiting deliveries elsewhere.
    pub(super) async fn pause(
        &self,
        partner: &Partner,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        pause_partner(
            &self.store,
            &self.signals,
            &self.mailing,
            partner.id,
            reason,
            now,
            &leadrouter_store::audit::Actor::system("delivery failures"),
        )
        .await?;
        Ok(())
    }
}
