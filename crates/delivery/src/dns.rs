//! Name resolution. Every address a partner's host resolves to is checked by the core SSRF
//! guard; connections are then made only to addresses that passed (no second lookup, so a
//! DNS answer that changes in between cannot redirect us).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

pub type ResolveFuture = Pin<Box<dyn Future<Output = io::Result<Vec<IpAddr>>> + Send>>;

/// Resolves a host name to its addresses.
pub trait Resolve: Send + Sync + 'static {
    fn resolve(&self, host: &str) -> ResolveFuture;
}

/// How long a lookup may take before the name counts as not resolving.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// The operating system's resolver.
#[derive(Debug, Default, Clone)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        let host = host.to_string();
        Box::pin(async move {
            let lookup = tokio::net::lookup_host((host.as_str(), 0));
            let addrs = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
                .await
                .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "DNS lookup timed out"))??;
            let mut ips: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
            ips.dedup();
            Ok(ips)
        })
    }
}

/// Fixed answers for some names, the system resolver for the rest. Lets tests (and
/// operators with split-horizon names) give a partner host a known address.
#[derive(Clone, Default)]
pub struct StaticResolver {
    names: Arc<HashMap<String, Vec<IpAddr>>>,
    fallback: Option<Arc<dyn Resolve>>,
}

impl StaticResolver {
    pub fn new(names: HashMap<String, Vec<IpAddr>>) -> Self {
        Self {
            names: Arc::new(
                names
                    .into_iter()
                    .map(|(k, v)| (k.to_lowercase(), v))
                    .collect(),
            ),
            fallback: Some(Arc::new(SystemResolver)),
        }
    }
}

impl StaticResolver {
    /// Only the given names resolve; every other name fails as if it did not exist.
    pub fn only(names: HashMap<String, Vec<IpAddr>>) -> Self {
        Self {
            fallback: None,
            ..Self::new(names)
        }
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, host: &str) -> ResolveFuture {
        if let Some(ips) = self.names.get(&host.to_lowercase()) {
            let ips = ips.clone();
            return Box::pin(async move { Ok(ips) });
        }
        match &self.fallback {
            Some(f) => f.resolve(host),
            None => {
                Box::pin(async { Err(io::Error::new(io::ErrorKind::NotFound, "unknown host")) })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn system_resolver_answers_localhost_with_loopback() {
        let ips = SystemResolver.resolve("localhost").await.unwrap();
        assert!(
            !ips.is_empty() && ips.iter().all(IpAddr::is_loopback),
            "{ips:?}"
        );
    }

    #[tokio::test]
    async fn static_names_win_and_others_fall_back() {
        let r = StaticResolver::new(HashMap::from([(
            "Partner.Test".to_string(),
            vec!["127.0.0.1".parse().unwrap()],
        )]));
        assert_eq!(
            r.resolve("partner.test").await.unwrap(),
            ["127.0.0.1".parse::<IpAddr>().unwrap()]
        );
        assert!(r
            .resolve("localhost")
            .await
            .unwrap()
            .iter()
            .all(IpAddr::is_loopback));
        assert!(r.resolve("no-such-host.invalid").await.is_err());
    }
}
