//! The outbox's one judgement of an outbound attempt (an erasure notice's or a
//! postback's): what the store records, and when it is tried again.

use leadrouter_core::clock::EpochMillis;
use leadrouter_core::outcome::{next_step, Then};
use leadrouter_store::erasure_notices::NoticeOutcome;
use std::time::Duration;

/// An outbound attempt judged (an erasure notice's or a postback's): its status, its
/// error in words, and what comes next on the delivery schedule.
pub(crate) struct Judged {
    status: Option<i64>,
    pub(crate) error: String,
    then: Then,
    now: EpochMillis,
}

impl Judged {
    pub(crate) fn of(
        result: &leadrouter_delivery::client::AttemptResult,
        attempts: i64,
        schedule: &[Duration],
        now: EpochMillis,
    ) -> Judged {
        let status = result.status_code.map(i64::from);
        let error = result.error.clone().unwrap_or_else(|| match status {
            Some(s) => format!("HTTP {s}"),
            None => "no answer".into(),
        });
        let step = next_step(
            result.attempted,
            attempts as usize + 1,
            schedule,
            result.retry_after,
            Duration::from_secs(3600),
            rand::random::<f64>(),
        );
        Judged {
            status,
            error,
            then: step.then,
            now,
        }
    }

    /// What the store records of it.
    pub(crate) fn outcome(&self) -> NoticeOutcome<'_> {
        match self.then {
            Then::Delivered => NoticeOutcome::Sent {
                status: self.status.unwrap_or(200),
            },
            Then::RetryIn(d) => NoticeOutcome::Retry {
                status: self.status,
                error: &self.error,
                at: self.now + d.as_millis() as i64,
            },
            Then::End { .. } => NoticeOutcome::Failed {
                status: self.status,
                error: &self.error,
            },
        }
    }
}
