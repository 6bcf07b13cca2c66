//! The e-mail outbox. A mail is written by the transaction of the event that causes it
//! (`enqueue` on that transaction's connection), with a dedupe key so that the event
//! repeated queues nothing new; the mailer then claims due mails with a lease, sends them
//! and records what came of it. Without a Postmark token mails are only `recorded`.

use crate::Priority;
use crate::{Store, StoreError};
use leadrouter_core::clock::EpochMillis;
use leadrouter_core::notice::MailKind;
use sqlx::{AnyConnection, Row};

/// A mail to queue.
#[derive(Debug, Clone)]
pub struct Mail {
    pub kind: MailKind,
    pub partner_id: Option<i64>,
    pub to: String,
    /// Operators copied without the partner seeing their addresses (comma-separated).
    pub bcc: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Unique per (kind, subject, period): the same key twice is one mail.
    pub dedupe_key: Option<String>,
    /// The lead whose data the mail quotes (cleared with the lead at erasure).
    pub lead_id: Option<i64>,
    /// What stands for [`SECRET_MARK`] in the text when the mail is sent (an invitation
    /// link): kept sealed beside the text only until then, never listed. Without a mail
    /// service the mail is never sent and the secret is not kept at all.
    pub secret: Option<String>,
}

impl Default for Mail {
    /// A blank mail of no particular kind: builders fill in what they say.
    fn default() -> Mail {
        Mail {
            kind: MailKind::PartnerWelcome,
            partner_id: None,
            to: String::new(),
            bcc: None,
            subject: String::new(),
            text: String::new(),
            html: String::new(),
            dedupe_key: None,
            lead_id: None,
            secret: None,
        }
    }
}

/// Where a mail's secret goes in its text: what lists and pages show instead of it.
pub const SECRET_MARK: &str = "[link hidden]";

/// Whether queued mail is sent (a Postmark token is set) or only recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    On,
    Off,
}

/// A mail claimed for sending.
#[derive(Debug, Clone)]
pub struct OutboxMail {
    pub id: i64,
    pub kind: MailKind,
    pub to: String,
    pub bcc: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub attempts: i64,
}

/// A notification as the console and the API list it.
#[derive(Debug, Clone)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: MailKind,
    pub partner_id: Option<i64>,
    pub to: String,
    /// The operators' copy (`LEADROUTER_ALERT_EMAILS`), when the mail had one.
    pub copy_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub status: leadrouter_core::status::MailStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub error_code: Option<i64>,
    pub created_at: EpochMillis,
    pub sent_at: Option<EpochMillis>,
}

impl Store {
    /// Queues `mails` on `conn` (the event's transaction), sent or only recorded as the
    /// installation says; a mail whose key exists is skipped, one to a suppressed address
    /// is `failed` at once. Returns how many were new.
    pub(crate) async fn queue_mails(
        &self,
        conn: &mut AnyConnection,
        mails: &[Mail],
        now: EpochMillis,
    ) -> Result<u64, StoreError> {
        let mut added = 0;
        for m in mails {
            let suppressed =
                sqlx::query("SELECT reason FROM suppressed_recipients WHERE email = $1")
                    .bind(m.to.to_lowercase())
                    .fetch_optional(&mut *conn)
                    .await?;
            let (status, error) = match (&suppressed, self.sending) {
                (Some(r), _) => (
                    "failed",
                    Some(format!(
                        "address suppressed: {}",
                        r.try_get::<String, _>("reason")?
                    )),
                ),
                (None, Sending::On) => ("queued", None),
                (None, Sending::Off) => ("recorded", None),
            };
            let secret = match (status, &m.secret) {
                ("queued", Some(s)) => Some(leadrouter_core::sealed::store(self.sealer(), s)),
                _ => None,
            };
            let done = sqlx::query(
            "INSERT INTO notifications (kind, partner_id, recipient, bcc, subject, body, html_body, \
             status, error, dedupe_key, next_attempt_at, created_at, lead_id, secret) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12, $13) \
             ON CONFLICT DO NOTHING",
        )
        .bind(m.kind.as_str())
        .bind(m.partner_id)
        .bind(&m.to)
        .bind(&m.bcc)
        .bind(&m.subject)
        .bind(&m.text)
        .bind(&m.html)
        .bind(status)
        .bind(error)
        .bind(&m.dedupe_key)
        .bind(now)
        .bind(m.lead_id)
        .bind(secret)
        .execute(&mut *conn)
        .await?;
            added += done.rows_affected();
        }
        Ok(added)
    }
}

impl Store {
    /// Queues mails in a transaction of their own (for events that have none, such as
    /// the scheduler's).
    pub async fn enqueue_mails(&self, mails: &[Mail], now: EpochMillis) -> Result<u64, StoreError> {
        if mails.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin(Priority::Background).await?;
        let n = self.queue_mails(&mut tx, mails, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Claims the oldest due mail for `lease_ms`.
    pub async fn claim_mail(
        &self,
        now: EpochMillis,
        lease_ms: i64,
    ) -> Result<Option<OutboxMail>, StoreError> {
        let row = sqlx::query(
            "UPDATE notifications SET next_attempt_at = $1 WHERE id = (SELECT id FROM notifications \
             WHERE status = 'queued' AND next_attempt_at <= $2 ORDER BY id LIMIT 1) \
             AND status = 'queued' AND next_attempt_at <= $2 \
             RETURNING id, kind, recipient, bcc, subject, body, html_body, attempts, secret",
        )
        .bind(now + lease_ms)
        .bind(now)
        .fetch_optional(self.write(Priority::Background).await.pool())
        .await?;
        row.map(|r| {
            // The secret goes into the text only now, for the send; it is never stored there.
            let secret = r
                .try_get::<Option<String>, _>("secret")?
                .map(|s| crate::secrets::open(self.sealer(), &s))
                .transpose()?;
            let put = |text: String| match &secret {
                Some(s) => text.replace(SECRET_MARK, s),
                None => text,
            };
            Ok(OutboxMail {
                id: r.try_get("id")?,
                kind: crate::states::state(&r, "kind", MailKind::parse)?,
                to: r.try_get("recipient")?,
                bcc: r.try_get("bcc")?,
                subject: r.try_get("subject")?,
                text: put(r.try_get("body")?),
                html: put(r.try_get("html_body")?),
                attempts: r.try_get("attempts")?,
            })
        })
        .transpose()
    }

    pub async fn mail_sent(
        &self,
        id: i64,
        message_id: Option<&str>,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET status = 'sent', sent_at = $1, attempts = attempts + 1, \
             provider_message_id = $2, error = NULL, secret = NULL WHERE id = $3",
        )
        .bind(now)
        .bind(message_id)
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    /// Another try at `next_at`, `error` remembered.
    pub async fn mail_retry(
        &self,
        id: i64,
        error: &str,
        next_at: EpochMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET attempts = attempts + 1, error = $1, next_attempt_at = $2 \
             WHERE id = $3",
        )
        .bind(error)
        .bind(next_at)
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    /// Failed for good, with Postmark's error code when it gave one.
    pub async fn mail_failed(
        &self,
        id: i64,
        code: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE notifications SET status = 'failed', attempts = attempts + 1, error = $1, \
             error_code = $2, secret = NULL WHERE id = $3",
        )
        .bind(error)
        .bind(code)
        .bind(id)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    /// No more mail to `address` (Postmark called it inactive).
    pub async fn suppress(
        &self,
        address: &str,
        reason: &str,
        now: EpochMillis,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO suppressed_recipients (email, reason, at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(address.to_lowercase())
        .bind(reason)
        .bind(now)
        .execute(self.write(Priority::Background).await.pool())
        .await?;
        Ok(())
    }

    pub async fn next_mail_due(&self) -> Result<Option<EpochMillis>, StoreError> {
        let row = sqlx::query(
            "SELECT MIN(next_attempt_at) AS due FROM notifications WHERE status = 'queued'",
        )
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get("due")?)
    }

    pub async fn is_suppressed(&self, email: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT 1 AS one FROM suppressed_recipients WHERE email = $1")
            .bind(email.to_lowercase())
            .fetch_optional(self.reader())
            .await?;
        Ok(row.is_some())
    }

    /// Notifications, newest first, optionally of one kind and status.
    pub async fn list_notifications(
        &self,
        kind: Option<&str>,
        status: Option<&str>,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, partner_id, recipient, bcc, subject, body, status, attempts, error, \
             error_code, created_at, sent_at FROM notifications \
             WHERE ($1 IS NULL OR kind = $1) AND ($2 IS NULL OR status = $2) \
             ORDER BY id DESC LIMIT $3",
        )
        .bind(kind)
        .bind(status)
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(NotificationRow {
                    id: r.try_get("id")?,
                    kind: crate::states::state(r, "kind", MailKind::parse)?,
                    partner_id: r.try_get("partner_id")?,
                    to: r.try_get("recipient")?,
                    copy_to: r.try_get("bcc")?,
                    subject: r.try_get("subject")?,
                    text: r.try_get("body")?,
                    status: crate::states::state(
                        r,
                        "status",
                        leadrouter_core::status::MailStatus::parse,
                    )?,
                    attempts: r.try_get("attempts")?,
                    last_error: r.try_get("error")?,
                    error_code: r.try_get("error_code")?,
                    created_at: r.try_get("created_at")?,
                    sent_at: r.try_get("sent_at")?,
                })
            })
            .collect()
    }
}
