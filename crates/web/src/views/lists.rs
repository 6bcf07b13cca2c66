//! The admin API's lists, each page with the id to continue `before`, and what a deletion
//! answers.

use super::{LeadView, PartnerView, SourceView};
use leadrouter_core::localtime::rfc3339;
use leadrouter_core::market::{Market, Niche};
use leadrouter_store::leads::Rejection;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadList {
    pub leads: Vec<LeadView>,
    pub next_before: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerList {
    pub partners: Vec<PartnerView>,
    pub next_before: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceList {
    pub sources: Vec<SourceView>,
    pub next_before: Value,
}

/// A submission refused at the door, with why (kept until erased or past retention).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RejectedSubmissionView {
    pub id: i64,
    pub source_id: Option<i64>,
    pub received_at: String,
    pub reason: Value,
    pub content_type: Option<String>,
    pub body: String,
}

impl RejectedSubmissionView {
    pub fn new(r: &Rejection) -> RejectedSubmissionView {
        RejectedSubmissionView {
            id: r.id,
            source_id: r.source_id,
            received_at: rfc3339(r.received_at),
            reason: r.reason.clone(),
            content_type: r.content_type.clone(),
            body: r.body.clone(),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RejectedList {
    pub rejected_submissions: Vec<RejectedSubmissionView>,
    pub next_before: Value,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarketList {
    #[schema(value_type = Vec<Object>)]
    pub markets: Vec<Market>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NicheList {
    #[schema(value_type = Vec<Object>)]
    pub niches: Vec<Niche>,
}

/// What a deletion answers: the id, gone.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Deleted {
    pub id: i64,
    pub deleted: bool,
}

impl Deleted {
    pub fn of(id: i64) -> Deleted {
        Deleted { id, deleted: true }
    }
}
