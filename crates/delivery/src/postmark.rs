//! The Postmark client: one `POST {base}/email` per mail, on a client from the shared
//! outbound builder (same roots, no proxy, no redirects). A thin client of our own rather
//! than the `postmark` crate: we need one call, its status codes and `ErrorCode`, and the
//! builder that every outbound client here goes through.

use crate::outbound::describe;
use leadrouter_core::secret::Secret;
use serde_json::{json, Value};

#[derive(Clone)]
pub struct PostmarkClient {
    pub http: reqwest::Client,
    /// `POSTMARK_API_URL`, without a trailing slash.
    pub base_url: String,
    pub token: Secret,
    pub from: String,
}

/// One mail to send.
pub struct Email<'a> {
    pub notification_id: i64,
    pub tag: &'a str,
    pub to: &'a str,
    pub bcc: Option<&'a str>,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// What Postmark made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    Accepted {
        message_id: Option<String>,
    },
    /// 429, 5xx, a timeout or no connection: worth another try.
    Retry(String),
    /// 422 (or another 4xx): this mail will never go; Postmark's `ErrorCode` and `Message`.
    Rejected {
        code: Option<i64>,
        message: String,
    },
    /// 406: the recipient is inactive (bounced, complained); write to it no more.
    Inactive {
        code: Option<i64>,
        message: String,
    },
}

impl PostmarkClient {
    pub async fn send(&self, e: &Email<'_>) -> Sent {
        let mut body = json!({
            "From": self.from,
            "To": e.to,
            "Subject": e.subject,
            "TextBody": e.text,
            "HtmlBody": e.html,
            "MessageStream": "outbound",
            "Tag": e.tag,
            "Metadata": {"notification_id": e.notification_id.to_string()},
        });
        if let Some(bcc) = e.bcc {
            body["Bcc"] = json!(bcc);
        }
        let response = self
            .http
            .post(format!("{}/email", self.base_url))
            .header("X-Postmark-Server-Token", self.token.expose())
            .header("Accept", "application/json")
            .json(&body)
            .send()
            .await;
        let r = match response {
            Ok(r) => r,
            Err(e) => {
                return Sent::Retry(format!(
                    "Postmark unreachable: {}",
                    describe(&e.without_url())
                ))
            }
        };
        let status = r.status().as_u16();
        let answer: Value = r.json().await.unwrap_or(Value::Null);
        let code = answer["ErrorCode"].as_i64();
        let said = answer["Message"].as_str().unwrap_or_default();
        // The error kept says Postmark's ErrorCode, which its documentation explains.
        let message = match code {
            Some(c) => format!("ErrorCode {c}: {said}"),
            None => said.to_string(),
        };
        match status {
            200..=299 => Sent::Accepted {
                message_id: answer["MessageID"].as_str().map(str::to_string),
            },
            406 => Sent::Inactive { code, message },
            429 | 500..=599 => Sent::Retry(format!("Postmark answered {status}: {message}")),
            _ => Sent::Rejected {
                code,
                message: format!("Postmark answered {status}: {message}"),
            },
        }
    }
}
