//! Wake-ups between the parts of the running system, named for what happened. Each loop
//! also polls as a fallback, so a missed signal costs latency, never a lead. (Other
//! instances sharing PostgreSQL wake this one's router through LISTEN/NOTIFY: `listen`.)
//!
//! The parts count their figures here too ([`Signals::metrics`]), and the loops report
//! their passes, so that [`crate::Engine::run_until_idle`] can
//! wait for the moment nothing is left to do without polling.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Signals {
    routing: Arc<Notify>,
    delivery: Arc<Notify>,
    facebook: Arc<Notify>,
    schedule: Arc<Notify>,
    mail: Arc<Notify>,
    notices: Arc<Notify>,
    activity: Arc<Activity>,
    metrics: Arc<crate::metrics::Metrics>,
    outcomes: Arc<crate::outcomes::Outcomes>,
}

/// Which loops are in a pass, and how many passes have begun. Atomics, not a lock: every
/// delivery attempt is a pass.
#[derive(Default)]
pub(crate) struct Activity {
    running: AtomicU32,
    begun: AtomicU64,
    /// Someone waits for passes to end (`run_until_idle`); otherwise their end wakes nobody.
    watched: AtomicBool,
    ended: Notify,
    /// Asked by `run_until_idle`: the scheduler runs every job on its next pass, even one
    /// that ran less than its period ago.
    jobs_now: AtomicBool,
    /// Forced runs of the jobs completed (a pass's end then announces it).
    jobs_run: AtomicU64,
}

#[derive(Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Passes {
    pub running: u32,
    pub begun: u64,
}

/// A loop's pass in progress; its end wakes whoever waits for the engine to be idle.
pub(crate) struct Pass {
    activity: Arc<Activity>,
}

impl Drop for Pass {
    fn drop(&mut self) {
        self.activity.running.fetch_sub(1, Ordering::SeqCst);
        if self.activity.watched.load(Ordering::SeqCst) {
            self.activity.ended.notify_waiters();
        }
    }
}

impl Signals {
    /// The figures every part counts into (for `/metrics`).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// Waits for a lead's outcome (an inbound request of a source that waits).
    pub fn wait_for_outcome(&self, lead_id: i64) -> crate::outcomes::OutcomeWait {
        self.outcomes.wait(lead_id)
    }

    /// The lead was held, failed or expired: whoever waits for it looks again.
    pub fn lead_settled(&self, lead_id: i64) {
        self.outcomes.reached(lead_id);
    }

    /// The lead's partner took it, saying this (before the outcome is committed: the
    /// partner has the lead either way, and a visitor waits for its autologin).
    pub fn lead_delivered(&self, lead_id: i64, said: &leadrouter_store::deliveries::Said) {
        self.outcomes.delivered(lead_id, said);
    }

    /// New leads were committed as `queued`.
    pub fn leads_queued(&self) {
        self.routing.notify_one();
    }

    /// Something changed that may let a partner take held or failed-over leads (a partner
    /// created, edited, resumed, paused or deleted; capacity released).
    pub fn routing_changed(&self) {
        self.routing.notify_one();
    }

    /// A delivery is due now (assigned, retried by an operator).
    pub fn delivery_due(&self) {
        self.delivery.notify_one();
    }

    /// Facebook told us of new leads to fetch.
    pub fn facebook_pending(&self) {
        self.facebook.notify_one();
    }

    pub(crate) async fn routing_wanted(&self) {
        self.routing.notified().await;
    }

    pub(crate) async fn delivery_wanted(&self) {
        self.delivery.notified().await;
    }

    pub(crate) async fn facebook_wanted(&self) {
        self.facebook.notified().await;
    }

    /// Mail was queued for sending.
    pub fn mail_queued(&self) {
        self.mail.notify_one();
    }

    pub(crate) async fn mail_wanted(&self) {
        self.mail.notified().await;
    }

    /// Erasure notices were queued for partners' erasure webhooks.
    pub fn notices_queued(&self) {
        self.notices.notify_one();
    }

    pub(crate) async fn notices_wanted(&self) {
        self.notices.notified().await;
    }

    pub(crate) async fn schedule_wanted(&self) {
        self.schedule.notified().await;
    }

    /// The scheduler runs every job on its next pass; returns the count of forced runs
    /// to wait past ([`Signals::jobs_run`]).
    pub(crate) fn run_jobs_now(&self) -> u64 {
        let done = self.activity.jobs_run.load(Ordering::SeqCst);
        self.activity.jobs_now.store(true, Ordering::SeqCst);
        self.schedule.notify_one();
        done
    }

    /// Forced runs of the jobs completed so far.
    pub(crate) fn jobs_run(&self) -> u64 {
        self.activity.jobs_run.load(Ordering::SeqCst)
    }

    /// The scheduler says it has run every job as asked (before its pass ends).
    pub(crate) fn jobs_ran(&self) {
        self.activity.jobs_run.fetch_add(1, Ordering::SeqCst);
    }

    /// Every loop but the scheduler takes a look now.
    pub(crate) fn everyone_look(&self) {
        self.mail_queued();
        self.notices_queued();
        self.leads_queued();
        self.delivery_due();
        self.facebook_pending();
    }

    pub(crate) fn jobs_wanted(&self) -> bool {
        self.activity.jobs_now.swap(false, Ordering::SeqCst)
    }

    /// A loop begins a pass; it ends when the value is dropped. A pass takes its work
    /// (claims it) after it began, and leaves what it made for others in the database or
    /// their queues before it ends.
    pub(crate) fn pass(&self) -> Pass {
        // Running first, then begun: a reader that sees neither change is before the pass,
        // one that sees `begun` unchanged across its look also saw `running` raised.
        self.activity.running.fetch_add(1, Ordering::SeqCst);
        self.activity.begun.fetch_add(1, Ordering::SeqCst);
        Pass {
            activity: Arc::clone(&self.activity),
        }
    }

    /// `begun` before `running`, so that a pass counted in neither has not begun.
    pub(crate) fn passes(&self) -> Passes {
        let begun = self.activity.begun.load(Ordering::SeqCst);
        let running = self.activity.running.load(Ordering::SeqCst);
        Passes { running, begun }
    }

    /// Resolves after the next pass of any loop ends (register before looking); from the
    /// first call on, passes' ends are announced.
    pub(crate) fn pass_ended(&self) -> tokio::sync::futures::Notified<'_> {
        self.activity.watched.store(true, Ordering::SeqCst);
        self.activity.ended.notified()
    }
}

/// The life of a queue's loop: a pass of work (reported to the driver), then a sleep until
/// its next work falls due (`next_due`, at most `idle`), until it is `wanted`, or until
/// shutdown. The router, the mailer and the Facebook fetcher run on it; a new queue of
/// outbound work is one `pass` and one `next_due`.
pub(crate) async fn run_loop<P, PF, D, DF, W, WF>(
    signals: &Signals,
    clock: &dyn leadrouter_core::clock::Clock,
    shutdown: &tokio_util::sync::CancellationToken,
    idle: std::time::Duration,
    mut pass: P,
    next_due: D,
    wanted: W,
) where
    P: FnMut() -> PF,
    PF: std::future::Future<Output = ()>,
    D: Fn() -> DF,
    DF: std::future::Future<Output = Result<Option<i64>, leadrouter_store::StoreError>>,
    W: Fn() -> WF,
    WF: std::future::Future<Output = ()>,
{
    loop {
        let marker = signals.pass();
        pass().await;
        drop(marker);
        if shutdown.is_cancelled() {
            return;
        }
        let pause = pause_until(next_due().await, clock.now_ms(), idle);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wanted() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// A queue's pass: claims one item after another (`claim`, which takes it with a lease)
/// and hands each to `handle`, until none is due, shutdown, or a claim fails (said as
/// `what`; the next pass tries again).
pub(crate) async fn drain_each<T, C, CF, H, HF>(
    shutdown: &tokio_util::sync::CancellationToken,
    what: &str,
    claim: C,
    mut handle: H,
) where
    C: Fn() -> CF,
    CF: std::future::Future<Output = Result<Option<T>, leadrouter_store::StoreError>>,
    H: FnMut(T) -> HF,
    HF: std::future::Future<Output = ()>,
{
    while !shutdown.is_cancelled() {
        match claim().await {
            Ok(Some(item)) => handle(item).await,
            Ok(None) => break,
            Err(e) => {
                tracing::warn!(error = %e, "claiming {what} failed");
                break;
            }
        }
    }
}

/// How long a loop may sleep: until its next work falls `due` (from the store's answer),
/// but never longer than `idle` (other instances' work, a failed read).
pub(crate) fn pause_until<E>(
    due: Result<Option<i64>, E>,
    now: i64,
    idle: std::time::Duration,
) -> std::time::Duration {
    match due {
        Ok(Some(due)) => std::time::Duration::from_millis((due - now).max(0) as u64).min(idle),
        _ => idle,
    }
}
