//! The operator's records as the admin API answers them: mails in the outbox, audit
//! entries, a partner's portal users.

use leadrouter_core::localtime::rfc3339;
use leadrouter_core::notice::MailKind;
use leadrouter_core::status::MailStatus;
use leadrouter_store::audit::AuditEntry;
use leadrouter_store::outbox::NotificationRow;
use leadrouter_store::portal::{Member, Portal};
use leadrouter_store::returns::ReturnRow;
use serde::Serialize;
use serde_json::Value;

/// A mail (`GET /api/admin/notifications`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: i64,
    #[schema(value_type = String)]
    pub kind: MailKind,
    pub to: String,
    /// The operators' copy, when the mail had one.
    pub copy_to: Option<String>,
    pub subject: String,
    #[schema(value_type = String)]
    pub status: MailStatus,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub error_code: Option<i64>,
    pub partner_id: Option<i64>,
    pub created_at: String,
    pub sent_at: Option<String>,
    pub text: String,
}

impl NotificationView {
    pub fn new(n: &NotificationRow) -> NotificationView {
        NotificationView {
            id: n.id,
            kind: n.kind,
            to: n.to.clone(),
            copy_to: n.copy_to.clone(),
            subject: n.subject.clone(),
            status: n.status,
            attempts: n.attempts,
            last_error: n.last_error.clone(),
            error_code: n.error_code,
            partner_id: n.partner_id,
            created_at: rfc3339(n.created_at),
            sent_at: n.sent_at.map(rfc3339),
            text: n.text.clone(),
        }
    }
}

/// Who made a change.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ActorView {
    pub kind: &'static str,
    pub id: Option<i64>,
    pub name: String,
}

/// An audit entry (`GET /api/admin/audit`): a secret field reads `{"changed": true}`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: String,
    pub actor: ActorView,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub changes: Value,
}

impl AuditEntryView {
    pub fn new(e: &AuditEntry) -> AuditEntryView {
        AuditEntryView {
            id: e.id,
            at: rfc3339(e.at),
            actor: ActorView {
                kind: e.actor.kind,
                id: e.actor.id,
                name: e.actor.name.clone(),
            },
            action: e.action.clone(),
            entity: e.entity.clone(),
            entity_id: e.entity_id,
            changes: e.changes.clone(),
        }
    }
}

/// Whose user: a partner's (`partner_id`) or a source's (`source_id`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub enum MemberOwner {
    #[serde(rename = "partner_id")]
    Partner(i64),
    #[serde(rename = "source_id")]
    Source(i64),
}

/// A portal user (a partner's or a supplier's): `active` once it set its password, else
/// `invited`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: i64,
    #[serde(flatten)]
    pub owner: MemberOwner,
    pub email: String,
    pub status: &'static str,
    pub invite_expires_at: Option<String>,
    pub last_login_at: Option<String>,
}

impl MemberView {
    pub fn new(portal: Portal, u: &Member) -> MemberView {
        MemberView {
            id: u.id,
            owner: match portal {
                Portal::Partner => MemberOwner::Partner(u.owner_id),
                Portal::Supplier => MemberOwner::Source(u.owner_id),
            },
            email: u.email.clone(),
            status: if u.accepted_at.is_some() {
                "active"
            } else {
                "invited"
            },
            invite_expires_at: u.invite_expires_at.map(rfc3339),
            last_login_at: u.last_login_at.map(rfc3339),
        }
    }
}

/// A return (`/api/return/{partner_id}`, `/api/admin/returns`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReturnView {
    pub id: i64,
    pub lead_id: i64,
    pub partner_id: i64,
    pub partner_name: String,
    pub reason: String,
    pub note: Option<String>,
    #[schema(value_type = String)]
    pub status: leadrouter_core::status::ReturnStatus,
    pub remark: Option<String>,
    pub created_at: String,
    pub decided_at: Option<String>,
}

impl ReturnView {
    pub fn new(r: &ReturnRow) -> ReturnView {
        ReturnView {
            id: r.id,
            lead_id: r.lead_id,
            partner_id: r.partner_id,
            partner_name: r.partner_name.clone(),
            reason: r.reason.clone(),
            note: r.note.clone(),
            status: r.status,
            remark: r.remark.clone(),
            created_at: rfc3339(r.created_at),
            decided_at: r.decided_at.map(rfc3339),
        }
    }
}

/// What a waiting source is answered for a lead (`wait_for_delivery`): its id, where it
/// came to rest, and what the partner's answer gave.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadOutcomeView {
    pub lead_id: i64,
    #[schema(value_type = String)]
    pub status: leadrouter_core::status::LeadStatus,
    /// The partner's own id for the lead, when it gave one.
    pub partner_lead_id: Option<String>,
    /// Where to send the person for their first visit (the partner's autologin).
    pub redirect_url: Option<String>,
    pub message: &'static str,
}

/// What a source is answered for a lead (`POST /api/webhook/{token}`): its id, its state,
/// the lead it repeats when it is a duplicate, and a sentence.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LeadReceivedView {
    pub lead_id: i64,
    #[schema(value_type = String)]
    pub status: leadrouter_core::status::LeadStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<i64>,
    pub message: &'static str,
}
