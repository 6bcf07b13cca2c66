//! The one way we talk to partners: an HTTPS client that verifies certificates, follows no
//! redirects, gives up after the configured timeout, and connects only to addresses the SSRF
//! guard allowed — resolved once, by us, and pinned for the connection.

use crate::dns::Resolve;
use leadrouter_core::outcome::{Attempted, Response as Answer};
use leadrouter_core::partner::{PartnerAuth, PartnerSpec};
use leadrouter_core::reply::BODY_READ_BYTES;
use leadrouter_core::secret::Secret;
use leadrouter_core::signing::standard;
use leadrouter_core::ssrf::{check_ip, AllowList, BlockReason};
use leadrouter_core::transform::encode;
use leadrouter_core::webhook_url::parse_webhook_url;
use reqwest::dns::{Addrs, Name, Resolving};
use serde_json::{Map, Value};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use crate::outbound::ClientError;
use crate::outbound::{describe, Outbound};

/// Most of a partner's answer we keep, for the attempt record.
pub const EXCERPT_BYTES: usize = 1024;

#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {ip}, {reason}; refused by the SSRF guard")]
pub struct Blocked {
    host: String,
    ip: IpAddr,
    reason: BlockReason,
}

/// reqwest's resolver: ours, then the guard on every address.
struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    allow: AllowList,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let lookup = self.inner.resolve(&host);
        let allow = self.allow.clone();
        Box::pin(async move {
            let ips = lookup.await?;
            if ips.is_empty() {
                return Err(format!("{host} has no addresses").into());
            }
            // One blocked address refuses the name: any of them could be the one used.
            for &ip in &ips {
                if let Err(reason) = check_ip(ip, &allow) {
                    return Err(Box::new(Blocked {
                        host: host.clone(),
                        ip,
                        reason,
                    }) as _);
                }
            }
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

#[derive(Clone)]
pub struct ClientSettings {
    /// Roots, timeout and the rest every outbound client shares.
    pub outbound: Outbound,
    pub allow: AllowList,
}

/// What one attempt came to.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// What the partner's endpoint did, or why no request was made: refused by the SSRF
    /// guard before any connection, or not buildable from the partner's settings (a
    /// credential that is no header value, a malformed signing secret). Neither is retried.
    pub attempted: Attempted,
    pub status_code: Option<u16>,
    pub latency: Duration,
    pub error: Option<String>,
    /// The first KiB of the answer, as kept with the attempt.
    pub excerpt: Option<String>,
    /// The answer's bytes as read to judge it (up to `reply::BODY_READ_BYTES`); decoded
    /// only for a partner whose `response` rules read it.
    pub body: Option<Vec<u8>>,
    pub retry_after: Option<Duration>,
    /// The request body as sent (none when no request was made).
    pub sent_body: Option<String>,
}

impl AttemptResult {
    /// No request was made: refused by the SSRF guard, or not buildable.
    fn not_sent(attempted: Attempted, why: String) -> AttemptResult {
        AttemptResult {
            attempted,
            status_code: None,
            latency: Duration::ZERO,
            error: Some(why),
            excerpt: None,
            body: None,
            retry_after: None,
            sent_body: None,
        }
    }
}

/// Where a signed call goes: the URL (checked against the SSRF rules at every call), how
/// the body is encoded, and the receiver's own authentication.
pub struct Destination<'a> {
    pub url: &'a str,
    pub content_type: leadrouter_core::partner::ContentType,
    pub auth: Option<&'a PartnerAuth>,
}

#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    allow: AllowList,
}

impl Sender {
    pub fn new(
        settings: &ClientSettings,
        resolver: Arc<dyn Resolve>,
    ) -> Result<Sender, ClientError> {
        let http = settings
            .outbound
            .builder()?
            .dns_resolver(Arc::new(GuardedResolver {
                inner: resolver,
                allow: settings.allow.clone(),
            }))
            .build()
            .map_err(|e| ClientError::Build(describe(&e)))?;
        Ok(Sender {
            http,
            allow: settings.allow.clone(),
        })
    }

    /// Sends one payload to the partner's webhook: signed, with its auth,
    /// `Idempotency-Key` = `msg_id`.
    pub async fn send(
        &self,
        partner: &PartnerSpec,
        signing_secrets: &[&Secret],
        msg_id: &str,
        payload: &Map<String, Value>,
    ) -> AttemptResult {
        let to = Destination {
            url: &partner.webhook_url,
            content_type: partner.content_type,
            auth: partner.auth.as_ref(),
        };
        self.post_signed(&to, signing_secrets, msg_id, payload)
            .await
    }

    /// Any signed outbound call (a delivery, an erasure notice, a postback): the body
    /// encoded as `to` wants it, signed as Standard Webhooks with `signing_secrets`, over
    /// the pinned, SSRF-guarded client.
    pub async fn post_signed(
        &self,
        to: &Destination<'_>,
        signing_secrets: &[&Secret],
        msg_id: &str,
        payload: &Map<String, Value>,
    ) -> AttemptResult {
        let started = Instant::now();
        let blocked = |why| AttemptResult::not_sent(Attempted::Blocked, why);
        let unsendable = |why| AttemptResult::not_sent(Attempted::Unsendable, why);
        // The static checks again at every delivery (IP-literal hosts never reach the
        // resolver, so they are judged here).
        if let Err(problem) = parse_webhook_url(to.url, &self.allow) {
            return blocked(format!("webhook_url {problem}"));
        }
        let (body, content_type) = encode(payload, to.content_type);
        let sent_body = String::from_utf8_lossy(body.as_ref()).into_owned();
        let timestamp = chrono_now_secs();
        let secrets: Vec<&str> = signing_secrets.iter().map(|s| s.expose()).collect();
        let Some(signature) = standard::sign_all(&secrets, msg_id, timestamp, &body) else {
            return unsendable("the partner's signing secret is malformed; rotate it".into());
        };
        let mut req = self
            .http
            .post(to.url)
            .header("content-type", content_type)
            .header("idempotency-key", msg_id)
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body);
        req = match to.auth {
            None => req,
            Some(PartnerAuth::Bearer { token }) => req.bearer_auth(token.expose()),
            Some(PartnerAuth::Basic { username, password }) => {
                req.basic_auth(username, Some(password.expose()))
            }
            Some(PartnerAuth::Header { name, value }) => req.header(name.as_str(), value.expose()),
        };
        let mut result = match req.send().await {
            Ok(response) => read_answer(response, started).await,
            Err(e) => {
                if let Some(b) = find_blocked(&e) {
                    return blocked(b);
                }
                if e.is_builder() {
                    return unsendable(format!(
                        "the request could not be built from the partner's settings: {}",
                        describe(&e)
                    ));
                }
                no_answer(&e, started)
            }
        };
        result.sent_body = Some(sent_body);
        result
    }
}

impl Sender {
    /// A signed GET to `url` (a supplier's postback): the same guards as a delivery (the
    /// URL's rules again, the pinned resolver), Standard Webhooks headers signed over an
    /// empty body with `signing_secret`.
    pub async fn get_signed(
        &self,
        url: &str,
        signing_secret: &Secret,
        msg_id: &str,
    ) -> AttemptResult {
        let started = Instant::now();
        let not_sent = AttemptResult::not_sent;
        if let Err(problem) = parse_webhook_url(url, &self.allow) {
            return not_sent(Attempted::Blocked, format!("postback_url {problem}"));
        }
        let timestamp = chrono_now_secs();
        let Some(signature) =
            standard::sign_all(&[signing_secret.expose()], msg_id, timestamp, b"")
        else {
            return not_sent(
                Attempted::Unsendable,
                "the source's signing secret is malformed".into(),
            );
        };
        let req = self
            .http
            .get(url)
            .header("webhook-id", msg_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature);
        match req.send().await {
            Ok(response) => read_answer(response, started).await,
            Err(e) => {
                if let Some(b) = find_blocked(&e) {
                    return not_sent(Attempted::Blocked, b);
                }
                no_answer(&e, started)
            }
        }
    }
}

/// What the partner answered: status, `Retry-After`, and its body: up to 64 KiB read to
/// judge it, the first KiB kept.
async fn read_answer(mut response: reqwest::Response, started: Instant) -> AttemptResult {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(leadrouter_core::retry::parse_retry_after);
    let mut body = Vec::new();
    // The rest of a large answer is not our business.
    while body.len() < BODY_READ_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(BODY_READ_BYTES);
    let excerpt = &body[..body.len().min(EXCERPT_BYTES)];
    AttemptResult {
        attempted: Attempted::Answer(Answer::Status(status)),
        status_code: Some(status),
        latency: started.elapsed(),
        error: (!(200..300).contains(&status)).then(|| format!("HTTP {status}")),
        excerpt: Some(String::from_utf8_lossy(excerpt).into_owned()),
        body: Some(body),
        retry_after,
        sent_body: None,
    }
}

/// A request that got no answer: timed out, or the connection failed.
fn no_answer(e: &reqwest::Error, started: Instant) -> AttemptResult {
    let answer = if e.is_timeout() {
        Answer::Timeout
    } else {
        Answer::Transport
    };
    AttemptResult {
        attempted: Attempted::Answer(answer),
        status_code: None,
        latency: started.elapsed(),
        error: Some(describe(e)),
        excerpt: None,
        body: None,
        retry_after: None,
        sent_body: None,
    }
}

fn chrono_now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn find_blocked(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(b) = s.downcast_ref::<Blocked>() {
            return Some(b.to_string());
        }
        source = s.source();
    }
    None
}
