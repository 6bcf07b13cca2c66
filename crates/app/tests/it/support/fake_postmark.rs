//! A stand-in for Postmark (a third-party service we cannot reach here), speaking real
//! HTTPS on 127.0.0.1 with the test CA's certificate: `POST /email`, answered from a
//! script (then 200 with a MessageID), every request recorded with its headers.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub struct Request {
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<(u16, Value)>,
    requests: Vec<Request>,
}

#[derive(Clone)]
pub struct FakePostmark {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

async fn email(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let mut i = inner.lock().unwrap();
    i.requests.push(Request { headers, body });
    let n = i.requests.len();
    let (status, answer) = i.script.pop_front().unwrap_or((
        200,
        json!({"ErrorCode": 0, "Message": "OK", "MessageID": format!("msg-{n}")}),
    ));
    (StatusCode::from_u16(status).unwrap(), Json(answer))
}

impl FakePostmark {
    pub async fn start() -> FakePostmark {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let app = Router::new()
            .route("/email", post(email))
            .with_state(Arc::clone(&inner));
        let addr = super::receiver::serve_tls("127.0.0.1", app).await;
        FakePostmark {
            base: format!("https://{addr}"),
            inner,
        }
    }

    /// Answers these (status, body) first, in order.
    pub fn script(&self, replies: Vec<(u16, Value)>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    pub fn requests(&self) -> Vec<Request> {
        self.inner.lock().unwrap().requests.clone()
    }

    /// The mails received with this `Tag`.
    pub fn tagged(&self, tag: &str) -> Vec<Value> {
        self.requests()
            .into_iter()
            .filter(|r| r.body["Tag"] == tag)
            .map(|r| r.body)
            .collect()
    }

    /// The server's environment for sending through this fake.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("POSTMARK_SERVER_TOKEN", "test-server-token".to_string()),
            ("POSTMARK_FROM_EMAIL", "leads@leadbiz.de".to_string()),
            ("POSTMARK_API_URL", self.base.clone()),
        ]
    }
}
