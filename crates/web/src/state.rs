use leadrouter_core::catalog::Catalog;
use leadrouter_core::clock::Clock;
use leadrouter_core::ssrf::AllowList;
use leadrouter_delivery::client::Sender;
use leadrouter_delivery::dns::Resolve;
use leadrouter_engine::ingest::Ingestor;
use leadrouter_engine::signals::Signals;
use leadrouter_store::sources::Source;
use leadrouter_store::{Store, StoreError};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::RwLock;

/// What the HTTP layer needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Base URL shown in inbound URLs handed to sources, without a trailing slash.
    pub public_url: String,
    /// Networks exempt from the SSRF block.
    pub allow: AllowList,
    /// Signs the console's session cookies (derived from `SESSION_SECRET`).
    pub session_key: axum_extra::extract::cookie::Key,
    /// `LEADROUTER_METRICS_TOKEN`: `/metrics` wants it as a bearer token when set.
    pub metrics_token: Option<leadrouter_core::secret::Secret>,
    /// `LEADROUTER_RETURN_WINDOW`: how long after delivery a partner may return a lead.
    pub return_window_ms: i64,
    /// `LEADROUTER_METRICS_PUBLIC=1`: `/metrics` open without a token (none set).
    pub metrics_public: bool,
    /// `LEADROUTER_TRUSTED_PROXIES`: peers whose `X-Forwarded-For` names the client.
    pub trusted_proxies: AllowList,
    /// What the first-run setup form wants in "Setup token" (`LEADROUTER_SETUP_TOKEN`, or
    /// one made at start and written to the log while no operator exists).
    pub setup_token: leadrouter_core::secret::Secret,
    /// `LEADROUTER_CURRENCY`: the money shown in the console (ISO 4217, e.g. `EUR`).
    pub currency: String,
    /// `LEADROUTER_HOLD_MAX`: how long a lead waits for a partner (what the simulator
    /// holds a lead until at most).
    pub hold_max: std::time::Duration,
    /// `LEADROUTER_TIMEZONE`: the operator's days (a source's `daily_cap` counts in them).
    pub timezone: String,
    /// `LEADROUTER_INSTANCES`: instances sharing the database; the partner API's per-key
    /// limits are divided by it.
    pub instances: u32,
}

impl WebSettings {
    /// Whether the public URL is https (Secure, `__Host-` cookies and HSTS).
    pub fn https(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

/// Everything the handlers use.
pub struct AppDeps {
    pub store: Store,
    pub clock: Arc<dyn Clock>,
    pub resolver: Arc<dyn Resolve>,
    pub ingestor: Ingestor,
    /// Wakes the engine's loops.
    pub signals: Signals,
    /// Sends to partners (for test leads).
    pub sender: Sender,
    /// What mails say and whether they are sent.
    pub mailing: leadrouter_engine::mail::Mailing,
    pub settings: WebSettings,
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    deps: AppDeps,
    partner_limits: crate::partner_api::PartnerLimits,
    catalog: RwLock<Option<(Arc<Catalog>, Instant)>>,
    /// Sources by token hash, as read at the given instant.
    sources: std::sync::Mutex<HashMap<String, (Source, Instant)>>,
    flashes: crate::ui::flash::Flashes,
    /// When the waiting-leads gauges were last read from the database.
    gauges_read: tokio::sync::Mutex<Option<Instant>>,
}

/// The waiting-leads gauges are read at most this often, however often `/metrics` is
/// scraped.
const GAUGES_TTL: Duration = Duration::from_secs(5);

/// Markets and niches change rarely; other instances' additions are seen within this.
const CATALOG_TTL: Duration = Duration::from_secs(10);

/// Every inbound lead needs its source; a change made on this instance is seen at once
/// (the cache is cleared), one made on another instance within this.
const SOURCE_TTL: Duration = Duration::from_secs(1);
/// Sources remembered at most (only tokens that exist are remembered).
const SOURCE_CACHE_MAX: usize = 10_000;

impl AppState {
    pub fn new(deps: AppDeps) -> Self {
        let partner_limits = crate::partner_api::PartnerLimits::shared_by(deps.settings.instances);
        Self {
            inner: Arc::new(Inner {
                deps,
                partner_limits,
                catalog: RwLock::new(None),
                sources: Default::default(),
                flashes: Default::default(),
                gauges_read: Default::default(),
            }),
        }
    }

    /// Sets the waiting-leads gauges from the database's counts of the waiting states
    /// (read through the status index: as many rows as wait, never the whole table), at
    /// most every [`GAUGES_TTL`].
    pub(crate) async fn refresh_waiting_gauges(&self) {
        let mut read = self.inner.gauges_read.lock().await;
        if read.is_some_and(|at| at.elapsed() < GAUGES_TTL) {
            return;
        }
        match self.store().waiting_lead_counts().await {
            Ok(counts) => {
                for (status, n) in counts {
                    self.signals().metrics().waiting(status.as_str(), n);
                }
                *read = Some(Instant::now());
            }
            Err(e) => tracing::warn!(error = %e, "reading queue depths for /metrics failed"),
        }
    }

    pub fn mailing(&self) -> &leadrouter_engine::mail::Mailing {
        &self.inner.deps.mailing
    }

    pub(crate) fn flashes(&self) -> &crate::ui::flash::Flashes {
        &self.inner.flashes
    }

    pub fn store(&self) -> &Store {
        &self.inner.deps.store
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.deps.clock.now_ms()
    }

    pub fn resolver(&self) -> &dyn Resolve {
        self.inner.deps.resolver.as_ref()
    }

    pub fn ingestor(&self) -> &Ingestor {
        &self.inner.deps.ingestor
    }

    pub fn signals(&self) -> &Signals {
        &self.inner.deps.signals
    }

    pub fn partner_limits(&self) -> &crate::partner_api::PartnerLimits {
        &self.inner.partner_limits
    }

    pub fn sender(&self) -> &Sender {
        &self.inner.deps.sender
    }

    pub fn settings(&self) -> &WebSettings {
        &self.inner.deps.settings
    }

    /// Markets and niches, cached briefly.
    pub async fn catalog(&self) -> Result<Arc<Catalog>, StoreError> {
        if let Some((c, at)) = self.inner.catalog.read().await.as_ref() {
            if at.elapsed() < CATALOG_TTL {
                return Ok(Arc::clone(c));
            }
        }
        let fresh = Arc::new(self.store().catalog().await?);
        *self.inner.catalog.write().await = Some((Arc::clone(&fresh), Instant::now()));
        Ok(fresh)
    }

    /// The live source with this token hash, if any; cached for [`SOURCE_TTL`].
    pub async fn source_by_token_hash(&self, hash: &str) -> Result<Option<Source>, StoreError> {
        if let Some((s, at)) = self.sources().get(hash) {
            if at.elapsed() < SOURCE_TTL {
                return Ok(Some(s.clone()));
            }
        }
        let found = self.store().source_by_token(hash).await?;
        let mut cache = self.sources();
        match &found {
            Some(s) => {
                if cache.len() >= SOURCE_CACHE_MAX {
                    cache.clear();
                }
                cache.insert(hash.to_string(), (s.clone(), Instant::now()));
            }
            None => {
                cache.remove(hash);
            }
        }
        Ok(found)
    }

    /// Forget cached sources (after this process changed one).
    pub fn sources_changed(&self) {
        self.sources().clear();
    }

    fn sources(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Source, Instant)>> {
        self.inner
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Forget the cached catalog (after this process changed it).
    pub async fn catalog_changed(&self) {
        *self.inner.catalog.write().await = None;
    }
}

impl axum::extract::FromRef<AppState> for axum_extra::extract::cookie::Key {
    fn from_ref(state: &AppState) -> Self {
        state.settings().session_key.clone()
    }
}
