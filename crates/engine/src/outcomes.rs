//! Inbound requests that wait for their lead's outcome (a source's `wait_for_delivery`,
//! API.md "Waiting for the partner's answer"): each waits on its own lead's notification,
//! woken when the lead is delivered, held, failed or expired on this instance, never by
//! polling the database. Nobody waiting costs the hot path one atomic load.

use leadrouter_store::deliveries::Said;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::futures::Notified;
use tokio::sync::Notify;

#[derive(Default)]
pub(crate) struct Outcomes {
    waiting: AtomicUsize,
    /// Per lead: its notification, how many requests wait on it, and what its partner
    /// answered once it took the lead.
    leads: Mutex<HashMap<i64, Waited>>,
}

struct Waited {
    notify: Arc<Notify>,
    requests: usize,
    delivered: Option<Said>,
}

impl Outcomes {
    pub(crate) fn wait(self: &Arc<Self>, lead_id: i64) -> OutcomeWait {
        let notify = {
            let mut leads = self.leads.lock().unwrap_or_else(|e| e.into_inner());
            let entry = leads.entry(lead_id).or_insert_with(|| Waited {
                notify: Arc::new(Notify::new()),
                requests: 0,
                delivered: None,
            });
            entry.requests += 1;
            entry.notify.clone()
        };
        self.waiting.fetch_add(1, Ordering::SeqCst);
        OutcomeWait {
            outcomes: self.clone(),
            lead_id,
            notify,
        }
    }

    /// The lead reached an outcome (or a state it rests in): its waiters look again.
    pub(crate) fn reached(&self, lead_id: i64) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let leads = self.leads.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = leads.get(&lead_id) {
            w.notify.notify_waiters();
        }
    }

    /// The lead's partner took it and said this: its waiters can answer at once, without
    /// waiting for the outcome's commit or reading it back.
    pub(crate) fn delivered(&self, lead_id: i64, said: &Said) {
        if self.waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut leads = self.leads.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(w) = leads.get_mut(&lead_id) {
            w.delivered = Some(said.clone());
            w.notify.notify_waiters();
        }
    }
}

/// One request's wait for its lead; dropping it stops waiting.
pub struct OutcomeWait {
    outcomes: Arc<Outcomes>,
    lead_id: i64,
    notify: Arc<Notify>,
}

impl OutcomeWait {
    /// The next wake-up. Take it (and `enable` it) before looking at the lead, so that an
    /// outcome between the look and the wait is not missed.
    pub fn next(&self) -> Notified<'_> {
        self.notify.notified()
    }

    /// What the partner said when it took the lead, if it has.
    pub fn delivered(&self) -> Option<Said> {
        let leads = self
            .outcomes
            .leads
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        leads.get(&self.lead_id).and_then(|w| w.delivered.clone())
    }
}

impl Drop for OutcomeWait {
    fn drop(&mut self) {
        let mut leads = self
            .outcomes
            .leads
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = leads.get_mut(&self.lead_id) {
            entry.requests -= 1;
            if entry.requests == 0 {
                leads.remove(&self.lead_id);
            }
        }
        self.outcomes.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_wait_is_woken_by_its_own_lead_only_and_cleans_up() {
        let outcomes = Arc::new(Outcomes::default());
        let wait = outcomes.wait(7);
        let other = outcomes.wait(8);
        {
            let mine = wait.next();
            tokio::pin!(mine);
            mine.as_mut().enable();
            let theirs = other.next();
            tokio::pin!(theirs);
            theirs.as_mut().enable();
            let said = Said {
                redirect_url: Some("https://crm.example.com/al".into()),
                ..Said::default()
            };
            outcomes.delivered(7, &said);
            mine.await;
            assert_eq!(wait.delivered(), Some(said));
            assert_eq!(other.delivered(), None);
            assert!(
                futures_poll_once(theirs.as_mut()).is_none(),
                "lead 8 was not woken"
            );
        }
        drop(wait);
        drop(other);
        assert!(outcomes.leads.lock().unwrap().is_empty());
        assert_eq!(outcomes.waiting.load(Ordering::SeqCst), 0);
        outcomes.reached(7);
    }

    fn futures_poll_once<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match f.poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }
}
