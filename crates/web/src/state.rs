use leadrouter_core::clock::Clock;
use leadrouter_core::ssrf::AllowList;
use leadrouter_delivery::dns::Resolve;
use leadrouter_store::Store;
use std::sync::Arc;

/// What the HTTP layer needs to know of the configuration.
#[derive(Debug, Clone)]
pub struct WebSettings {
    /// Base URL shown in inbound URLs handed to sources, without a trailing slash.
    pub public_url: String,
    /// Networks exempt from the SSRF block.
    pub allow: AllowList,
}

/// Shared by every handler; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    resolver: Arc<dyn Resolve>,
    settings: WebSettings,
}

impl AppState {
    pub fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        resolver: Arc<dyn Resolve>,
        settings: WebSettings,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                clock,
                resolver,
                settings,
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn resolver(&self) -> &dyn Resolve {
        self.inner.resolver.as_ref()
    }

    pub fn settings(&self) -> &WebSettings {
        &self.inner.settings
    }
}
