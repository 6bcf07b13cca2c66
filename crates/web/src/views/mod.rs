//! What the API answers and the console shows, one typed struct per thing: built from the
//! stored records, serialized for JSON, rendered by templates. No answer is a hand-built map.

mod answers;
mod consent;
mod lead;
mod lists;
mod partner;
mod partner_lead;
mod records;
mod reports;
mod source;

pub use answers::{
    AuditList, Done, ErasedView, ErasureNoticeView, Evidence, EvidenceDelivery, FacebookReceived,
    Health, KnownContactsAdded, KnownContactsTotal, LeadAssigned, LeadEventView, LeadQueued,
    MemberInvited, MemberList, NoticeList, NotificationList, ResponsePreview, ResponseSample,
    ReturnDecided, ReturnList, ReturnRequested,
};
pub use consent::ConsentView;
pub use lead::{AttemptView, ConversionView, DeliveryView, LeadView};
pub use lists::{
    Deleted, LeadList, MarketList, NicheList, PartnerList, RejectedList, RejectedSubmissionView,
    SourceList,
};
pub use partner::{PartnerView, TodayView};
pub use partner_lead::{
    ConversionRecordedView, PartnerConversionView, PartnerHistoryView, PartnerLeadAnswer,
    PartnerLeadView,
};
pub use records::{
    AuditEntryView, LeadOutcomeView, LeadReceivedView, MemberView, NotificationView, ReturnView,
};
pub use reports::{
    AdminAnalytics, CpaSummary, CpaView, FiguresView, PartnerAnalytics, PartnerCpaView, Report,
    ReportRow,
};
pub use source::SourceView;

use serde::Serialize;

/// `{"success": true, ...view}`: every admin answer's shape.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Success<T: Serialize> {
    pub success: bool,
    #[serde(flatten)]
    pub body: T,
}

impl<T: Serialize> Success<T> {
    pub fn of(body: T) -> Self {
        Success {
            success: true,
            body,
        }
    }
}
