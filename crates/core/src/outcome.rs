//! How a delivery attempt ended, and what follows from it (PRODUCT.md §5).

use crate::reply::{Reading, Reply, ResponseRules};
use crate::retry::next_delay;
use crate::status::{AttemptOutcome, DeliveryStatus};
use std::time::Duration;

/// What the partner's endpoint did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Response {
    Status(u16),
    Timeout,
    /// Connection refused or reset, DNS failure, TLS failure.
    Transport,
    /// An answer the partner's `response` rules read: the rule's reading decides, whatever
    /// the status code.
    Read(Reading),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    /// Try again later (if the schedule allows).
    Retry,
    /// The partner refused this lead: no retry, the lead fails over.
    Rejected,
    /// 410 Gone: rejected, and the partner is paused.
    RejectedAndPause,
    /// The partner already has this person: no retry, the lead fails over, and the
    /// partner is not offered this person again.
    Duplicate,
}

pub fn classify(r: Response) -> Verdict {
    match r {
        Response::Status(s) if (200..300).contains(&s) => Verdict::Delivered,
        Response::Status(410) => Verdict::RejectedAndPause,
        Response::Status(408 | 425 | 429) => Verdict::Retry,
        Response::Status(s) if s >= 500 => Verdict::Retry,
        Response::Status(_) => Verdict::Rejected,
        Response::Timeout | Response::Transport => Verdict::Retry,
        Response::Read(Reading::Delivered) => Verdict::Delivered,
        Response::Read(Reading::Rejected) => Verdict::Rejected,
        Response::Read(Reading::Duplicate) => Verdict::Duplicate,
        Response::Read(Reading::Retry) => Verdict::Retry,
    }
}

/// What to do after one attempt (PRODUCT.md §5), and what to record of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    pub outcome: AttemptOutcome,
    pub then: Then,
    /// Whether this attempt lengthens the partner's failing streak.
    pub failure: bool,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Then {
    /// Record the lead delivered.
    Delivered,
    /// Send again after this long.
    RetryIn(Duration),
    /// The delivery ends (its capacity released, the lead failing over); `pause` says why
    /// the partner is to be paused too.
    End {
        status: DeliveryStatus,
        pause: Option<&'static str>,
    },
}

/// How an attempt went, as far as the next step cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempted {
    /// The partner's endpoint answered, or did not.
    Answer(Response),
    /// Refused before any connection (the SSRF guard): never retried.
    Blocked,
    /// The request could not be made from the partner's settings: never retried.
    Unsendable,
}

/// What an answer means for a partner, and what it said: its `response` rules read the
/// body first (any status); when none matches, or it has none, the status code decides.
/// No answer (a timeout, a refused connection) is judged as before.
pub fn judge(
    attempted: Attempted,
    rules: Option<&ResponseRules>,
    body: Option<&[u8]>,
) -> (Attempted, Reply) {
    match (attempted, rules) {
        (Attempted::Answer(Response::Status(status)), Some(rules)) => {
            let text = String::from_utf8_lossy(body.unwrap_or_default());
            let reply = rules.read(status, &text);
            let judged = match reply.reading {
                Some(reading) => Attempted::Answer(Response::Read(reading)),
                None => attempted,
            };
            (judged, reply)
        }
        _ => (attempted, Reply::default()),
    }
}

/// What an answer of `status` with `body` means under `rules`, as a word: `delivered`,
/// `rejected`, `duplicate` or `retry` (what the response preview compares).
pub fn verdict_word(status: u16, rules: Option<&ResponseRules>, body: &str) -> &'static str {
    let (attempted, _) = judge(
        Attempted::Answer(Response::Status(status)),
        rules,
        Some(body.as_bytes()),
    );
    match attempted {
        Attempted::Answer(r) => match classify(r) {
            Verdict::Delivered => "delivered",
            Verdict::Retry => "retry",
            Verdict::Rejected | Verdict::RejectedAndPause => "rejected",
            Verdict::Duplicate => "duplicate",
        },
        Attempted::Blocked | Attempted::Unsendable => "rejected",
    }
}

/// A recorded attempt's outcome as the same word (a retry and the failure that ended the
/// retries both read `retry`: the answer asked for another try).
pub fn recorded_word(outcome: AttemptOutcome) -> &'static str {
    match outcome {
        AttemptOutcome::Delivered => "delivered",
        AttemptOutcome::Retry | AttemptOutcome::Failed => "retry",
        AttemptOutcome::Rejected | AttemptOutcome::Blocked => "rejected",
        AttemptOutcome::Duplicate => "duplicate",
    }
}

/// The step after attempt number `attempt_no` (1 for the first), given the retry
/// `schedule`, the partner's `Retry-After` (honoured up to `cap`) and a random `unit` in
/// `[0, 1)` for the jitter.
pub fn next_step(
    attempted: Attempted,
    attempt_no: usize,
    schedule: &[Duration],
    retry_after: Option<Duration>,
    cap: Duration,
    unit: f64,
) -> Step {
    let end = |outcome, status, failure, pause| Step {
        outcome,
        then: Then::End { status, pause },
        failure,
    };
    let response = match attempted {
        Attempted::Blocked => {
            return end(
                AttemptOutcome::Blocked,
                DeliveryStatus::Rejected,
                false,
                None,
            )
        }
        Attempted::Unsendable => {
            return end(
                AttemptOutcome::Rejected,
                DeliveryStatus::Rejected,
                false,
                None,
            )
        }
        Attempted::Answer(r) => r,
    };
    match classify(response) {
        Verdict::Delivered => Step {
            outcome: AttemptOutcome::Delivered,
            then: Then::Delivered,
            failure: false,
        },
        Verdict::Retry => match next_delay(schedule, attempt_no, unit, retry_after, cap) {
            Some(delay) => Step {
                outcome: AttemptOutcome::Retry,
                then: Then::RetryIn(delay),
                failure: true,
            },
            None => end(AttemptOutcome::Failed, DeliveryStatus::Failed, true, None),
        },
        Verdict::Rejected => end(
            AttemptOutcome::Rejected,
            DeliveryStatus::Rejected,
            false,
            None,
        ),
        Verdict::Duplicate => end(
            AttemptOutcome::Duplicate,
            DeliveryStatus::Duplicate,
            false,
            None,
        ),
        Verdict::RejectedAndPause => end(
            AttemptOutcome::Rejected,
            DeliveryStatus::Rejected,
            false,
            Some("the endpoint answered 410 Gone"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEDULE: [Duration; 2] = [Duration::from_secs(10), Duration::from_secs(60)];

    fn step(a: Attempted, attempt_no: usize) -> Step {
        next_step(
            a,
            attempt_no,
            &SCHEDULE,
            None,
            Duration::from_secs(3600),
            0.5,
        )
    }

    #[test]
    fn each_attempt_leads_to_its_step() {
        let ok = step(Attempted::Answer(Response::Status(200)), 1);
        assert_eq!(
            (ok.outcome, ok.then, ok.failure),
            (AttemptOutcome::Delivered, Then::Delivered, false)
        );
        let first = step(Attempted::Answer(Response::Status(503)), 1);
        assert_eq!(first.then, Then::RetryIn(Duration::from_secs(10)));
        assert_eq!(
            (first.outcome, first.failure),
            (AttemptOutcome::Retry, true)
        );
        let second = step(Attempted::Answer(Response::Timeout), 2);
        assert_eq!(second.then, Then::RetryIn(Duration::from_secs(60)));
        let last = step(Attempted::Answer(Response::Transport), 3);
        assert_eq!(
            (last.outcome, last.then, last.failure),
            (
                AttemptOutcome::Failed,
                Then::End {
                    status: DeliveryStatus::Failed,
                    pause: None
                },
                true
            )
        );
        let no = step(Attempted::Answer(Response::Status(400)), 1);
        assert_eq!(
            (no.outcome, no.then, no.failure),
            (
                AttemptOutcome::Rejected,
                Then::End {
                    status: DeliveryStatus::Rejected,
                    pause: None
                },
                false
            )
        );
        let gone = step(Attempted::Answer(Response::Status(410)), 1);
        assert_eq!(
            gone.then,
            Then::End {
                status: DeliveryStatus::Rejected,
                pause: Some("the endpoint answered 410 Gone")
            }
        );
        let blocked = step(Attempted::Blocked, 1);
        assert_eq!(
            (blocked.outcome, blocked.failure),
            (AttemptOutcome::Blocked, false)
        );
        assert!(matches!(
            blocked.then,
            Then::End {
                status: DeliveryStatus::Rejected,
                ..
            }
        ));
        let unsendable = step(Attempted::Unsendable, 1);
        assert_eq!(unsendable.outcome, AttemptOutcome::Rejected);
    }

    #[test]
    fn a_read_answer_decides_whatever_its_status() {
        let dup = step(Attempted::Answer(Response::Read(Reading::Duplicate)), 1);
        assert_eq!(
            (dup.outcome, dup.then, dup.failure),
            (
                AttemptOutcome::Duplicate,
                Then::End {
                    status: DeliveryStatus::Duplicate,
                    pause: None
                },
                false
            )
        );
        let no = step(Attempted::Answer(Response::Read(Reading::Rejected)), 1);
        assert_eq!(no.outcome, AttemptOutcome::Rejected);
        let again = step(Attempted::Answer(Response::Read(Reading::Retry)), 1);
        assert_eq!(
            (again.then, again.failure),
            (Then::RetryIn(Duration::from_secs(10)), true)
        );
        let spent = step(Attempted::Answer(Response::Read(Reading::Retry)), 3);
        assert_eq!(spent.outcome, AttemptOutcome::Failed);
        let ok = step(Attempted::Answer(Response::Read(Reading::Delivered)), 1);
        assert_eq!(ok.then, Then::Delivered);
    }

    proptest::proptest! {
        #[test]
        fn only_retryable_answers_retry_and_only_within_the_schedule(
            code in 100u16..600, attempt_no in 1usize..6, unit in 0.0f64..1.0
        ) {
            let s = next_step(Attempted::Answer(Response::Status(code)), attempt_no, &SCHEDULE,
                None, Duration::from_secs(3600), unit);
            let retryable = classify(Response::Status(code)) == Verdict::Retry;
            proptest::prop_assert_eq!(matches!(s.then, Then::RetryIn(_)), retryable && attempt_no <= SCHEDULE.len());
            proptest::prop_assert_eq!(s.failure, retryable);
            if let Then::RetryIn(d) = s.then {
                let base = SCHEDULE[attempt_no - 1];
                proptest::prop_assert!(d >= base.mul_f64(0.8) && d <= base.mul_f64(1.2));
            }
        }
    }

    #[test]
    fn each_answer_has_its_verdict() {
        for s in [200, 201, 202, 204, 299] {
            assert_eq!(classify(Response::Status(s)), Verdict::Delivered, "{s}");
        }
        for s in [408, 425, 429, 500, 502, 503, 504, 599] {
            assert_eq!(classify(Response::Status(s)), Verdict::Retry, "{s}");
        }
        for s in [100, 301, 302, 307, 400, 401, 403, 404, 409, 422] {
            assert_eq!(classify(Response::Status(s)), Verdict::Rejected, "{s}");
        }
        assert_eq!(classify(Response::Status(410)), Verdict::RejectedAndPause);
        assert_eq!(classify(Response::Timeout), Verdict::Retry);
        assert_eq!(classify(Response::Transport), Verdict::Retry);
    }
}
