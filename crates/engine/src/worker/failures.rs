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
            .count_partner_failure(
                partner.id,
                now,
                alert_after,
                &|| {
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
                },
                self.mailing.sending,
            )
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
