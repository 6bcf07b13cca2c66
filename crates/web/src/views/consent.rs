//! A lead's consent evidence as the API answers it (`given_at` in RFC 3339); its text only
//! where one lead is shown whole (its page, its evidence), not in lists.

use leadrouter_core::consent::Consent;
use leadrouter_core::localtime::rfc3339;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConsentView {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    pub text_sha256: String,
    pub version: Option<String>,
    pub given_at: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub page_url: Option<String>,
}

impl ConsentView {
    /// The evidence with the text agreed to.
    pub fn whole(c: &Consent) -> ConsentView {
        ConsentView {
            text: Some(c.text.clone()),
            ..ConsentView::without_text(c)
        }
    }

    /// The evidence without its text (the hash names it).
    pub fn without_text(c: &Consent) -> ConsentView {
        ConsentView {
            text: None,
            text_sha256: c.text_sha256.clone(),
            version: c.version.clone(),
            given_at: c.given_at.map(rfc3339),
            ip: c.ip.clone(),
            user_agent: c.user_agent.clone(),
            page_url: c.page_url.clone(),
        }
    }
}
