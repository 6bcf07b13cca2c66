//! The mailer: claims due mails from the outbox with a lease, sends each through Postmark
//! and records what came of it. Retries 429, 5xx and timeouts on the retry schedule (with
//! its jitter), fails for good on Postmark's 422 with its `ErrorCode`, and suppresses an
//! address Postmark calls inactive (406). A mailer that dies mid-send leaves the mail to
//! the next claim once its lease runs out.

use crate::signals::Signals;
use leadrouter_core::clock::Clock;
use leadrouter_core::retry::next_delay;
use leadrouter_delivery::postmark::{Email, PostmarkClient, Sent};
use leadrouter_store::outbox::OutboxMail;
use leadrouter_store::{Store, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct MailerSettings {
    pub retry_schedule: Vec<Duration>,
    /// How long a claimed mail is this mailer's (longer than a send can take).
    pub lease: Duration,
}

pub struct Mailer {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub postmark: PostmarkClient,
    pub signals: Signals,
    pub settings: MailerSettings,
}

const IDLE_POLL: Duration = Duration::from_secs(1);

impl Mailer {
    pub async fn run(self, shutdown: CancellationToken) {
        crate::signals::run_loop(
            &self.signals,
            &*self.clock,
            &shutdown,
            IDLE_POLL,
            || self.drain(&shutdown),
            || self.store.next_mail_due(),
            || self.signals.mail_wanted(),
        )
        .await;
    }

    /// Sends every mail due now.
    async fn drain(&self, shutdown: &CancellationToken) {
        crate::signals::drain_each(
            shutdown,
            "mail",
            || {
                let now = self.clock.now_ms();
                self.store
                    .claim_mail(now, self.settings.lease.as_millis() as i64)
            },
            |m| async move {
                if let Err(e) = self.send(&m).await {
                    tracing::warn!(notification = m.id, error = %e, "recording a mail's outcome failed; its lease brings it back");
                }
            },
        )
        .await;
    }

    async fn send(&self, m: &OutboxMail) -> Result<(), StoreError> {
        let sent = self
            .postmark
            .send(&Email {
                notification_id: m.id,
                tag: m.kind.as_str(),
                to: &m.to,
                bcc: m.bcc.as_deref(),
                subject: &m.subject,
                text: &m.text,
                html: &m.html,
            })
            .await;
        let now = self.clock.now_ms();
        match sent {
            Sent::Accepted { message_id } => {
                tracing::info!(notification = m.id, kind = %m.kind, "mail sent");
                self.store.mail_sent(m.id, message_id.as_deref(), now).await
            }
            Sent::Retry(why) => {
                let tried = m.attempts + 1;
                match next_delay(
                    &self.settings.retry_schedule,
                    tried as usize,
                    rand::random::<f64>(),
                    None,
                    Duration::from_secs(3600),
                ) {
                    Some(delay) => {
                        tracing::info!(
                            notification = m.id,
                            attempts = tried,
                            "mail not sent yet; retrying"
                        );
                        self.store
                            .mail_retry(m.id, &why, now + delay.as_millis() as i64)
                            .await
                    }
                    None => {
                        tracing::warn!(
                            notification = m.id,
                            attempts = tried,
                            "mail failed after every retry"
                        );
                        self.store.mail_failed(m.id, None, &why).await
                    }
                }
            }
            Sent::Rejected { code, message } => {
                tracing::warn!(notification = m.id, code, "Postmark refused a mail");
                self.store.mail_failed(m.id, code, &message).await
            }
            Sent::Inactive { code, message } => {
                tracing::warn!(notification = m.id, code, "recipient inactive; suppressed");
                for address in m.to.split(',').map(str::trim) {
                    self.store.suppress(address, &message, now).await?;
                }
                self.store.mail_failed(m.id, code, &message).await?;
                Ok(())
            }
        }
    }
}
