//! Wakes this instance's router when another instance stores leads (PostgreSQL's
//! LISTEN/NOTIFY, [`leadrouter_store::listen`]); the router still polls as a fallback, so
//! a lost connection costs latency, never a lead.

use crate::signals::Signals;
use leadrouter_store::Store;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long to wait before connecting again after the listening connection failed.
const RECONNECT: Duration = Duration::from_secs(1);

pub(crate) struct Listener {
    pub store: Store,
    pub signals: Signals,
}

impl Listener {
    pub(crate) async fn run(self, cancel: CancellationToken) {
        loop {
            let listener = tokio::select! {
                _ = cancel.cancelled() => return,
                l = self.store.work_listener() => l,
            };
            match listener {
                // SQLite: nothing to hear; the task waits for the stop like the others.
                Ok(None) => return cancel.cancelled().await,
                Ok(Some(mut listener)) => loop {
                    tokio::select! {
                        _ = cancel.cancelled() => return,
                        heard = listener.next() => match heard {
                            Ok(()) => self.signals.leads_queued(),
                            Err(e) => {
                                tracing::warn!(error = %e, "listening for other instances' leads failed");
                                break;
                            }
                        },
                    }
                },
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other instances' leads");
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(RECONNECT) => {}
            }
        }
    }
}
