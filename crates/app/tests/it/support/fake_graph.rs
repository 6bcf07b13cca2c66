//! A stand-in for Facebook's Graph API (a third-party service we cannot reach here),
//! speaking real HTTPS on 127.0.0.1 with the test CA's certificate:
//! `GET /v21.0/{leadgen_id}?access_token=...`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Leads {
    /// leadgen id → (failures still to answer with 500, the lead)
    leads: HashMap<String, (usize, Value)>,
    /// (leadgen id, access token) of every request.
    hits: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub base: String,
    state: Arc<Mutex<Leads>>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let state = Arc::new(Mutex::new(Leads::default()));
        let app = Router::new()
            .route("/v21.0/{id}", get(lead))
            .with_state(Arc::clone(&state));
        let addr = super::receiver::serve_tls("127.0.0.1", app).await;
        let base = format!("https://{addr}/v21.0");
        FakeGraph { base, state }
    }

    /// Serves `field_data` for `id` after failing `failures` times with a 500, with the
    /// answer to the form's disclaimer checkbox.
    pub fn add(&self, id: &str, failures: usize, field_data: Value) {
        let lead = json!({"id": id, "created_time": "2026-11-24T10:00:00+0000", "form_id": "form-9",
                          "ad_id": "ad-3", "field_data": field_data,
                          "custom_disclaimer_responses": [{"checkbox_key": "marketing_calls", "is_checked": "1"}]});
        self.state
            .lock()
            .unwrap()
            .leads
            .insert(id.to_string(), (failures, lead));
    }

    pub fn hits(&self, id: &str) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.hits
            .iter()
            .filter(|(i, _)| i == id)
            .map(|(_, t)| t.clone())
            .collect()
    }
}

async fn lead(
    State(state): State<Arc<Mutex<Leads>>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, StatusCode> {
    let mut s = state.lock().unwrap();
    s.hits.push((
        id.clone(),
        q.get("access_token").cloned().unwrap_or_default(),
    ));
    match s.leads.get_mut(&id) {
        Some((failures, _)) if *failures > 0 => {
            *failures -= 1;
            Err(StatusCode::INTERNAL_SERVER_ERROR)
        }
        Some((_, lead)) => Ok(Json(lead.clone())),
        None => Err(StatusCode::NOT_FOUND),
    }
}
