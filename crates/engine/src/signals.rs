//! Wake-ups between the parts of the running system, named for what happened. Each loop
//! also polls as a fallback, so a missed signal costs latency, never a lead. (Other
//! instances sharing PostgreSQL are reached by that polling; LISTEN/NOTIFY would go here.)

use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone, Default)]
pub struct Signals {
    routing: Arc<Notify>,
    delivery: Arc<Notify>,
    facebook: Arc<Notify>,
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
}
