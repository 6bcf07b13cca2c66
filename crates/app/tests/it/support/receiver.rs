//! Partner endpoints for tests: real HTTPS servers on 127.0.0.x with certificates from a
//! test CA, which the server under test trusts through `LEADROUTER_EXTRA_ROOT_CERTS`.
//! Each answers from a script (then 200 OK) and records every request it gets.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The test CA and a server certificate for every name and address receivers use.
pub struct TestTls {
    pub ca_file: PathBuf,
    pub cert_pem: String,
    pub key_pem: String,
    _dir: tempfile::TempDir,
}

pub fn tls() -> &'static TestTls {
    static TLS: OnceLock<TestTls> = OnceLock::new();
    TLS.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
        ];
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "leadrouter test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let names = [
            "partner.test",
            "second.test",
            "sneaky.test",
            "localhost",
            "127.0.0.1",
            "127.0.0.2",
        ];
        let leaf_params =
            rcgen::CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ca_file = dir.path().join("test-ca.pem");
        std::fs::write(&ca_file, ca.pem()).unwrap();
        TestTls {
            ca_file,
            cert_pem: leaf.pem(),
            key_pem: leaf_key.serialize_pem(),
            _dir: dir,
        }
    })
}

/// What a receiver answers.
#[derive(Clone, Debug)]
pub enum Reply {
    Status(u16),
    /// A status with extra headers (`Retry-After`, `Location`).
    With(u16, Vec<(&'static str, String)>),
    /// Never answers (the client's timeout must end it).
    Hang,
    /// Answers after a pause.
    Slow(u16, Duration),
    /// A status with this body.
    Body(u16, String),
    /// This status once the test opens the gate (`Notify::notify_one`).
    Gate(u16, Arc<tokio::sync::Notify>),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    /// The query string, if any (a postback's placeholders travel in it).
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    otherwise: Option<Reply>,
    requests: Vec<Received>,
}

#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

async fn answer(
    State(inner): State<Arc<Mutex<Inner>>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut s = inner.lock().unwrap();
        s.requests.push(Received {
            path: uri.path().to_string(),
            query: uri.query().map(str::to_string),
            headers,
            body,
            at: Instant::now(),
        });
        s.script
            .pop_front()
            .or_else(|| s.otherwise.clone())
            .unwrap_or(Reply::Status(200))
    };
    match reply {
        Reply::Status(code) => (StatusCode::from_u16(code).unwrap(), "ok").into_response(),
        Reply::With(code, headers) => {
            let mut r = (StatusCode::from_u16(code).unwrap(), "see headers").into_response();
            for (k, v) in headers {
                r.headers_mut().insert(k, v.parse().unwrap());
            }
            r
        }
        Reply::Hang => std::future::pending().await,
        Reply::Body(code, body) => (StatusCode::from_u16(code).unwrap(), body).into_response(),
        Reply::Gate(code, gate) => {
            gate.notified().await;
            (StatusCode::from_u16(code).unwrap(), "gated").into_response()
        }
        Reply::Slow(code, pause) => {
            tokio::time::sleep(pause).await;
            (StatusCode::from_u16(code).unwrap(), "slow ok").into_response()
        }
    }
}

/// Serves `app` over HTTPS (the test CA's certificate) on `ip` and a free port.
pub async fn serve_tls(ip: &str, app: Router) -> SocketAddr {
    let tls = tls();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem(
        tls.cert_pem.clone().into_bytes(),
        tls.key_pem.clone().into_bytes(),
    )
    .await
    .unwrap();
    let ip: IpAddr = ip.parse().unwrap();
    let listener = std::net::TcpListener::bind((ip, 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum_server::from_tcp_rustls(listener, config)
            .serve(app.into_make_service())
            .await;
    });
    addr
}

impl Receiver {
    /// An HTTPS receiver on `ip` (any 127.0.0.x) and a free port.
    pub async fn start(ip: &str) -> Receiver {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .fallback(answer)
            .with_state(Arc::clone(&inner));
        let addr = serve_tls(ip, app).await;
        Receiver { addr, inner }
    }

    /// `https://{host}:{port}{path}`
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }

    /// Answers these, in order, before answering `otherwise` (200 by default).
    pub fn script(&self, replies: Vec<Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    pub fn otherwise(&self, reply: Reply) {
        self.inner.lock().unwrap().otherwise = Some(reply);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.inner.lock().unwrap().requests.clone()
    }
}
