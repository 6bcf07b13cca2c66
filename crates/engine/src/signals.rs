//! Wake-ups between the parts of the running system, named for what happened. Each loop
//! also polls as a fallback, so a missed signal costs latency, never a lead. (Other
//! instances sharing PostgreSQL are reached by that polling; LISTEN/NOTIFY would go here.)
//!
//! The loops also report their passes here, so that [`crate::Engine::run_until_idle`] can
//! wait for the moment nothing is left to do without polling.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Signals {
    routing: Arc<Notify>,
    delivery: Arc<Notify>,
    facebook: Arc<Notify>,
    schedule: Arc<Notify>,
    activity: Arc<Activity>,
}

/// Which loops are in a pass, and how many passes have begun.
#[derive(Default)]
pub(crate) struct Activity {
    state: Mutex<Passes>,
    ended: Notify,
    /// Asked by `run_until_idle`: the scheduler runs every job on its next pass, even one
    /// that ran less than its period ago.
    jobs_now: AtomicBool,
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
        self.activity.state.lock().expect("activity").running -= 1;
        self.activity.ended.notify_waiters();
    }
}

impl Signals {
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

    pub(crate) async fn schedule_wanted(&self) {
        self.schedule.notified().await;
    }

    /// Every loop takes a look now (and the scheduler runs its jobs).
    pub(crate) fn everyone_look(&self) {
        self.activity.jobs_now.store(true, Ordering::SeqCst);
        self.schedule.notify_one();
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
        let mut s = self.activity.state.lock().expect("activity");
        s.running += 1;
        s.begun += 1;
        Pass {
            activity: Arc::clone(&self.activity),
        }
    }

    pub(crate) fn passes(&self) -> Passes {
        *self.activity.state.lock().expect("activity")
    }

    /// Resolves after the next pass of any loop ends (register before looking).
    pub(crate) fn pass_ended(&self) -> tokio::sync::futures::Notified<'_> {
        self.activity.ended.notified()
    }
}
