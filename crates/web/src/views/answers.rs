//! The small answers of the admin, partner and operations APIs: what an action did, and
//! the lists that are only a name around other views.

use super::{
    AuditEntryView, ConsentView, DeliveryView, LeadView, MemberView, NotificationView, ReturnView,
};
use leadrouter_core::localtime::rfc3339;
use leadrouter_store::conversions::LeadEvent;
use leadrouter_store::erasure_notices::ErasureNoticeRow;
use serde::Serialize;

/// An action that has nothing to tell but that it was done.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Done {}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<NotificationView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditList {
    pub entries: Vec<AuditEntryView>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberList {
    pub users: Vec<MemberView>,
}

/// A portal user invited (again); the link only when no e-mail carries it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberInvited {
    pub user: MemberView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_url: Option<String>,
}

/// A lead put back in line for routing.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadQueued {
    pub lead_id: i64,
    pub status: &'static str,
}

/// A lead assigned by an operator, with what was overridden.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadAssigned {
    pub lead_id: i64,
    pub partner_id: i64,
    pub delivery_id: i64,
    pub status: &'static str,
    pub over_cap: bool,
    pub warnings: Vec<String>,
}

/// What an erasure did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErasedView {
    pub erased_leads: usize,
    pub notified_partners: usize,
    pub unnotified_partners: usize,
}

/// An erasure notice to a partner's webhook, and how its sending goes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErasureNoticeView {
    pub id: i64,
    pub partner_id: i64,
    pub status: &'static str,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: String,
    pub sent_at: Option<String>,
}

impl ErasureNoticeView {
    pub fn new(n: &ErasureNoticeRow) -> Self {
        ErasureNoticeView {
            id: n.id,
            partner_id: n.partner_id,
            status: n.status.as_str(),
            attempts: n.attempts,
            last_status: n.last_status,
            last_error: n.last_error.clone(),
            created_at: rfc3339(n.created_at),
            sent_at: n.sent_at.map(rfc3339),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NoticeList {
    pub notices: Vec<ErasureNoticeView>,
}

/// One step of a lead's history.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadEventView {
    pub status: String,
    pub detail: Option<String>,
    pub at: String,
}

impl LeadEventView {
    pub fn new(e: &LeadEvent) -> Self {
        LeadEventView {
            status: e.status.clone(),
            detail: e.detail.clone(),
            at: rfc3339(e.at),
        }
    }
}

/// A delivery in the evidence export: where the lead went, by name and address too.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceDelivery {
    #[serde(flatten)]
    pub delivery: DeliveryView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

/// A lead's evidence: the lead, its consent with the text agreed to, and where and when it
/// was delivered.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Evidence {
    pub exported_at: String,
    pub lead: LeadView,
    pub consent: Option<ConsentView>,
    pub deliveries: Vec<EvidenceDelivery>,
    pub history: Vec<LeadEventView>,
}

/// A return requested by a partner, awaiting the operator.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReturnRequested {
    pub return_id: i64,
    pub status: &'static str,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReturnList {
    pub returns: Vec<ReturnView>,
}

/// A return decided.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReturnDecided {
    #[serde(rename = "return")]
    pub decided: ReturnView,
}

/// Facebook notifications taken in.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FacebookReceived {
    pub received: usize,
}

/// `/healthz` and `/readyz`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Health {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
}

/// A partner's known contacts after an upload.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KnownContactsAdded {
    pub added: i64,
    pub total: i64,
    /// Values that were no e-mail address, phone number or SHA-256.
    pub skipped: usize,
    /// The first of them, where and why (`emails[3] is not an e-mail address`).
    pub problems: Vec<String>,
}

/// How many contacts a partner has.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KnownContactsTotal {
    pub total: i64,
}

/// One recorded answer, as it was judged and as a candidate `response` setting would.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResponseSample {
    pub attempt_id: i64,
    pub lead_id: i64,
    pub status_code: i64,
    pub excerpt: String,
    pub was: &'static str,
    pub would_be: &'static str,
    pub reason: Option<String>,
}

/// What a candidate `response` setting would change.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ResponsePreview {
    pub checked: usize,
    pub changed: usize,
    pub samples: Vec<ResponseSample>,
}
