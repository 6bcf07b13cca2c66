//! The partner side of a benchmark: an HTTPS endpoint that answers 200 at once, as a broker
//! CRM does (`{"success": true, "data": {"id": …}}`), and notes when each lead (by
//! `Idempotency-Key`) first arrived, and how often.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Default)]
pub struct Arrivals {
    /// lead id → (first arrival, times received)
    pub leads: HashMap<i64, (Instant, u32)>,
    /// Postbacks (`webhook-id: postback-<n>`) → when first received.
    pub postbacks: HashMap<String, Instant>,
    /// The path each partner is sent to (`/p0`, `/p1`, …) → the leads it received.
    pub by_path: HashMap<String, std::collections::HashSet<i64>>,
}

pub struct Sink {
    pub port: u16,
    pub arrivals: Arc<Mutex<Arrivals>>,
}

async fn receive(
    State(arrivals): State<Arc<Mutex<Arrivals>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let now = Instant::now();
    if let Some(id) = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.starts_with("postback-"))
    {
        let mut a = arrivals.lock().expect("arrivals");
        a.postbacks.entry(id.to_string()).or_insert(now);
        return "ok".into_response();
    }
    if let Some(id) = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
    {
        let mut a = arrivals.lock().expect("arrivals");
        a.by_path
            .entry(uri.path().to_string())
            .or_default()
            .insert(id);
        a.leads
            .entry(id)
            .and_modify(|e| e.1 += 1)
            .or_insert((now, 1));
        return axum::Json(serde_json::json!({"success": true, "data": {"id": format!("p-{id}")}}))
            .into_response();
    }
    "ok".into_response()
}

impl Sink {
    pub async fn start(cert_pem: String, key_pem: String) -> anyhow::Result<Sink> {
        let config = axum_server::tls_rustls::RustlsConfig::from_pem(
            cert_pem.into_bytes(),
            key_pem.into_bytes(),
        )
        .await?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let arrivals = Arc::new(Mutex::new(Arrivals::default()));
        let app = Router::new()
            .fallback(receive)
            .with_state(Arc::clone(&arrivals));
        tokio::spawn(async move {
            let _ = axum_server::from_tcp_rustls(listener, config)
                .serve(app.into_make_service())
                .await;
        });
        Ok(Sink { port, arrivals })
    }
}

/// A test CA and a certificate for 127.0.0.1: (CA PEM, server cert PEM, server key PEM).
pub fn certificates() -> anyhow::Result<(String, String, String)> {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
    let ca_key = rcgen::KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    let leaf_key = rcgen::KeyPair::generate()?;
    let leaf = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])?
        .signed_by(&leaf_key, &ca, &ca_key)?;
    Ok((ca.pem(), leaf.pem(), leaf_key.serialize_pem()))
}

impl Sink {
    /// A sink with fresh certificates, its CA written to `dir` for the server to trust.
    pub async fn with_ca_in(dir: &std::path::Path) -> anyhow::Result<(Sink, std::path::PathBuf)> {
        let (ca, cert, key) = certificates()?;
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca)?;
        Ok((Sink::start(cert, key).await?, ca_file))
    }
}
