//! The Facebook Graph API client: fetches one Lead Ads lead by its `leadgen_id`.

use crate::outbound::describe;
use leadrouter_core::secret::Secret;

/// What one fetch came to.
#[derive(Debug)]
pub enum Fetch {
    Lead(serde_json::Value),
    /// Worth another try later.
    Transient(String),
}

/// The Graph API at `base_url` (e.g. `https://graph.facebook.com/v21.0`), through a client
/// built by [`crate::outbound::Outbound`].
#[derive(Clone)]
pub struct GraphClient {
    pub http: reqwest::Client,
    pub base_url: String,
}

impl GraphClient {
    pub async fn fetch_lead(&self, leadgen_id: &str, access_token: &Secret) -> Fetch {
        let url = format!("{}/{}", self.base_url, leadgen_id);
        let response = self
            .http
            .get(&url)
            .query(&[
                ("access_token", access_token.expose()),
                (
                    "fields",
                    "id,created_time,field_data,form_id,ad_id,campaign_id,custom_disclaimer_responses",
                ),
            ])
            .send()
            .await;
        match response {
            Ok(r) if r.status().is_success() => match r.json::<serde_json::Value>().await {
                Ok(v) => Fetch::Lead(v),
                Err(e) => Fetch::Transient(format!(
                    "unreadable Graph API answer: {}",
                    describe(&e.without_url())
                )),
            },
            Ok(r) => Fetch::Transient(format!("Graph API answered {}", r.status().as_u16())),
            Err(e) => Fetch::Transient(format!(
                "Graph API unreachable: {}",
                describe(&e.without_url())
            )),
        }
    }
}
