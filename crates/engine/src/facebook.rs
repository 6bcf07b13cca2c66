//! Fetches Facebook Lead Ads leads from the Graph API after Facebook told us of them, and
//! stores them through the same validation and ingest path as every other lead.

use crate::ingest::Ingestor;
use crate::signals::Signals;
use leadrouter_core::clock::Clock;
use leadrouter_core::facebook::graph_lead_fields;
use leadrouter_core::lead::normalize_lead;
use leadrouter_core::retry::next_delay;
use leadrouter_delivery::facebook::{Fetch, GraphClient};
use leadrouter_store::facebook::FacebookNotification;
use leadrouter_store::leads::Submission;
use leadrouter_store::Store;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub struct FacebookFetcher {
    pub store: Store,
    pub ingestor: Ingestor,
    pub clock: Arc<dyn Clock>,
    pub graph: GraphClient,
    /// Delays between fetch attempts; when used up the notification fails (and is recorded).
    pub retry_schedule: Vec<Duration>,
    pub signals: Signals,
}

/// How long a claimed notification is ours before another fetcher may take it.
const LEASE_MS: i64 = 60_000;
/// Polling fallback when nothing wakes us.
const IDLE_POLL: Duration = Duration::from_secs(2);

impl FacebookFetcher {
    pub async fn run(self, shutdown: CancellationToken) {
        crate::signals::run_loop(
            &self.signals,
            &*self.clock,
            &shutdown,
            IDLE_POLL,
            || self.drain(&shutdown),
            || self.store.next_facebook_due(),
            || self.signals.facebook_wanted(),
        )
        .await;
    }

    /// Fetches every notification due now.
    async fn drain(&self, shutdown: &CancellationToken) {
        crate::signals::drain_each(
            shutdown,
            "Facebook notifications",
            || {
                self.store
                    .claim_facebook_notification(self.clock.now_ms(), LEASE_MS)
            },
            |n| self.process(n),
        )
        .await;
    }

    async fn process(&self, n: FacebookNotification) {
        let result = self.try_process(&n).await;
        if let Err(e) = result {
            tracing::warn!(notification = n.id, error = %e, "Facebook notification left for a retry");
        }
    }

    /// A fetch that may work later: retried on the schedule, then recorded as refused.
    async fn fetch_failed(
        &self,
        n: &FacebookNotification,
        source_id: i64,
        error: &str,
        now: i64,
    ) -> Result<(), leadrouter_store::StoreError> {
        let failed = usize::try_from(n.attempts)
            .unwrap_or(usize::MAX)
            .saturating_add(1);
        let unit: f64 = rand::random();
        let cap = Duration::from_secs(3600);
        match next_delay(&self.retry_schedule, failed, unit, None, cap) {
            Some(delay) => {
                tracing::info!(notification = n.id, attempt = failed, %error, "Graph API fetch failed; will retry");
                self.store
                    .retry_facebook_notification(n.id, error, now + delay.as_millis() as i64, now)
                    .await
            }
            None => {
                tracing::warn!(notification = n.id, attempts = failed, %error, "Graph API fetch failed for good");
                let reason = json!({"facebook": format!("could not fetch lead {} from the Graph API after {failed} attempts: {error}", n.leadgen_id)});
                self.store
                    .record_rejection(
                        Some(source_id),
                        now,
                        &reason,
                        Some("application/json"),
                        n.payload.to_string().as_bytes(),
                    )
                    .await?;
                self.store
                    .finish_facebook_notification(n.id, "failed", None, Some(error), now)
                    .await
            }
        }
    }

    async fn try_process(
        &self,
        n: &FacebookNotification,
    ) -> Result<(), leadrouter_store::StoreError> {
        let now = self.clock.now_ms();
        let Some(source) = self.store.source(n.source_id).await? else {
            return self
                .store
                .finish_facebook_notification(n.id, "failed", None, Some("source deleted"), now)
                .await;
        };
        let Some(fb) = source.spec.facebook.as_ref() else {
            return self
                .store
                .finish_facebook_notification(
                    n.id,
                    "failed",
                    None,
                    Some("source has no Facebook settings"),
                    now,
                )
                .await;
        };
        let lead = match self.graph.fetch_lead(&n.leadgen_id, &fb.access_token).await {
            Fetch::Lead(lead) => lead,
            Fetch::Transient(error) => return self.fetch_failed(n, source.id, &error, now).await,
        };
        let catalog = self.store.catalog().await?;
        let defaults = source.spec.lead_defaults("facebook");
        let normalized = graph_lead_fields(&lead)
            .map_err(|e| std::collections::BTreeMap::from([("facebook".to_string(), e)]))
            .and_then(|fields| normalize_lead(&fields, &defaults, &catalog));
        match normalized {
            Ok(mut new_lead) => {
                new_lead
                    .external_id
                    .get_or_insert_with(|| n.leadgen_id.clone());
                let stored = self
                    .ingestor
                    .submit(Submission {
                        source_id: source.id,
                        lead: new_lead,
                        idempotency_key: None,
                        received_at: now,
                        cost_cents: source.spec.cost_per_lead_cents.unwrap_or(0),
                    })
                    .await?;
                tracing::info!(
                    notification = n.id,
                    lead_id = stored.id(),
                    "Facebook lead stored"
                );
                self.store
                    .finish_facebook_notification(n.id, "fetched", Some(stored.id()), None, now)
                    .await
            }
            Err(fields) => {
                self.store
                    .record_rejection(
                        Some(source.id),
                        now,
                        &json!(fields),
                        Some("application/json"),
                        lead.to_string().as_bytes(),
                    )
                    .await?;
                tracing::info!(notification = n.id, "Facebook lead rejected");
                self.store
                    .finish_facebook_notification(
                        n.id,
                        "rejected",
                        None,
                        Some("validation failed"),
                        now,
                    )
                    .await
            }
        }
    }
}
