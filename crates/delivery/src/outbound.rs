//! Every HTTP client that leaves this server (partners, the Graph API, Postmark) is built
//! here, the same way: the system roots plus `LEADROUTER_EXTRA_ROOT_CERTS`, no proxy (proxy
//! variables would tunnel requests past the SSRF guard's resolver), no redirects, HTTPS
//! only, timeouts, our user agent. Errors are described with their whole cause chain.

use std::time::Duration;

/// What every outbound client shares.
#[derive(Clone, Debug)]
pub struct Outbound {
    /// Whole-request timeout.
    pub timeout: Duration,
    /// PEM with certificates to trust besides the built-in roots.
    pub extra_root_certs: Option<Vec<u8>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("LEADROUTER_EXTRA_ROOT_CERTS: {0}")]
    ExtraRoots(String),
    #[error("building the HTTPS client: {0}")]
    Build(String),
}

impl Outbound {
    /// A builder with the shared rules applied; callers add what is theirs (a resolver)
    /// and build.
    pub fn builder(&self) -> Result<reqwest::ClientBuilder, ClientError> {
        let mut builder = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .https_only(true)
            .timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("leadrouter/", env!("CARGO_PKG_VERSION")));
        if let Some(pem) = &self.extra_root_certs {
            let certs = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| ClientError::ExtraRoots(describe(&e)))?;
            if certs.is_empty() {
                return Err(ClientError::ExtraRoots("holds no PEM certificate".into()));
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        Ok(builder)
    }

    pub fn client(&self) -> Result<reqwest::Client, ClientError> {
        self.builder()?
            .build()
            .map_err(|e| ClientError::Build(describe(&e)))
    }
}

/// An error and its causes in one line, without the URL (which may carry secrets, such as
/// the Graph API's access token): `could not connect: ...: invalid peer certificate:
/// UnknownIssuer`.
pub fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    if let Some(r) = e.downcast_ref::<reqwest::Error>() {
        parts.push(
            if r.is_timeout() {
                "timed out"
            } else if r.is_connect() {
                "could not connect"
            } else if r.is_decode() {
                "unreadable answer"
            } else if r.is_builder() {
                "the request could not be built"
            } else {
                "request failed"
            }
            .to_string(),
        );
    } else {
        parts.push(e.to_string());
    }
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}
