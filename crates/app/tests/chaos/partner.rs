//! A partner that misbehaves on purpose: a real HTTPS server (the test CA's certificate)
//! written on the raw socket, so that it can do what no well-behaved server framework lets
//! it: hang, reset the connection, take its time over the TLS handshake, trickle its answer
//! a byte at a time, or answer a 10 MB body. What it does with each request is decided by
//! a plan from the request's `Idempotency-Key` and how many times that key came before, so a
//! run is the same whatever order the requests arrive in.

use crate::support::receiver::tls;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the partner does with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// Answers this status and body (JSON) after this pause.
    Answer(u16, String, Duration),
    /// Never answers; keeps the connection open until the client gives up.
    Hang,
    /// Resets the connection (TCP RST) without a word.
    Reset,
    /// Sends its answer's head one byte every 200 ms.
    Trickle,
    /// Answers 200 with a 10 MB body.
    Huge,
}

impl Act {
    pub fn ok() -> Act {
        Act::Answer(200, r#"{"success":true}"#.into(), Duration::ZERO)
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Act::Answer(200..=299, ..) => "2xx",
            Act::Answer(..) => "error status",
            Act::Hang => "hang",
            Act::Reset => "reset",
            Act::Trickle => "trickle",
            Act::Huge => "10 MB body",
        }
    }
}

/// One request as the partner saw it, and what it did.
#[derive(Clone, Debug)]
pub struct Receipt {
    pub path: String,
    pub key: String,
    pub webhook_id: String,
    pub body: Vec<u8>,
    pub act: Act,
}

type Plan = dyn Fn(&str, &str, usize) -> Act + Send + Sync;

pub struct ChaosPartner {
    pub port: u16,
    receipts: Arc<Mutex<Vec<Receipt>>>,
}

/// A number from a key and a count, the same on every run (FNV-1a).
pub fn dice(seed: u64, key: &str, nth: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in key.bytes().chain(nth.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl ChaosPartner {
    /// Starts the partner on 127.0.0.1. `plan(path, key, nth)` says what to do with the
    /// `nth` (0-based) request carrying `key`; every `slow_tls_every`-th connection waits
    /// `slow_tls` before its TLS handshake (0: none).
    pub async fn start(
        plan: impl Fn(&str, &str, usize) -> Act + Send + Sync + 'static,
        slow_tls_every: u64,
        slow_tls: Duration,
    ) -> ChaosPartner {
        let tls = tls();
        let certs = CertificateDer::pem_slice_iter(tls.cert_pem.as_bytes())
            .map(|c| c.expect("test certificate"))
            .collect();
        let key = PrivateKeyDer::from_pem_slice(tls.key_pem.as_bytes()).expect("test key");
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().unwrap().port();
        let receipts: Arc<Mutex<Vec<Receipt>>> = Arc::default();
        let seen: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
        let plan: Arc<Plan> = Arc::new(plan);
        let connections = Arc::new(AtomicU64::new(0));
        let state = (Arc::clone(&receipts), seen, plan);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let n = connections.fetch_add(1, Ordering::Relaxed) + 1;
                let acceptor = acceptor.clone();
                let (receipts, seen, plan) = (
                    Arc::clone(&state.0),
                    Arc::clone(&state.1),
                    Arc::clone(&state.2),
                );
                tokio::spawn(async move {
                    if slow_tls_every > 0 && n.is_multiple_of(slow_tls_every) {
                        tokio::time::sleep(slow_tls).await;
                    }
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = serve(stream, &receipts, &seen, &*plan).await;
                });
            }
        });
        ChaosPartner { port, receipts }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.port)
    }

    pub fn receipts(&self) -> Vec<Receipt> {
        self.receipts.lock().unwrap().clone()
    }
}

/// Reads requests off one connection and acts on each, until the client closes it or an
/// act ends it.
async fn serve(
    mut stream: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    receipts: &Mutex<Vec<Receipt>>,
    seen: &Mutex<BTreeMap<String, usize>>,
    plan: &Plan,
) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(8192);
    loop {
        // The head, then as much body as it announces.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let mut lines = head.split("\r\n");
        let path = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("/")
            .to_string();
        let header = |name: &str| {
            head.split("\r\n").skip(1).find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case(name)
                    .then(|| v.trim().to_string())
            })
        };
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = buf[head_end..head_end + length].to_vec();
        buf.drain(..head_end + length);
        let key = header("idempotency-key").unwrap_or_default();
        let nth = {
            let mut seen = seen.lock().unwrap();
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            *n - 1
        };
        let act = plan(&path, &key, nth);
        receipts.lock().unwrap().push(Receipt {
            path,
            webhook_id: header("webhook-id").unwrap_or_default(),
            key,
            body,
            act: act.clone(),
        });
        match act {
            Act::Answer(status, body, pause) => {
                tokio::time::sleep(pause).await;
                let answer = format!(
                    "HTTP/1.1 {status} Chaos\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(answer.as_bytes()).await?;
                stream.flush().await?;
            }
            Act::Hang => {
                // Until the client gives up and closes.
                let mut sink = [0u8; 1024];
                while stream.read(&mut sink).await? > 0 {}
                return Ok(());
            }
            Act::Reset => {
                let (tcp, _) = stream.get_ref();
                socket2::SockRef::from(tcp).set_linger(Some(Duration::ZERO))?;
                return Ok(());
            }
            Act::Trickle => {
                for b in b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok" {
                    stream.write_all(&[*b]).await?;
                    stream.flush().await?;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
            Act::Huge => {
                const SIZE: usize = 10 * 1024 * 1024;
                stream
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {SIZE}\r\n\r\n").as_bytes(),
                    )
                    .await?;
                let block = vec![b'x'; 64 * 1024];
                for _ in 0..SIZE / block.len() {
                    stream.write_all(&block).await?;
                }
                stream.flush().await?;
            }
        }
    }
}
