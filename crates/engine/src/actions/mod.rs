//! What operators and the loops both do to partners and leads, in one place each.

mod catalog;
mod error;
mod invitations;
mod leads;
mod partner_settings;
mod partners;
mod sources;
mod test_lead;

pub use catalog::{add_market, add_niche};
pub use error::ActionError;
pub use invitations::{invite_member, reinvite_member, INVITE_MS};
pub use leads::{assign_lead, retry_delivery, retry_lead, Assigned, NotAssigned};
pub use partner_settings::{
    create_partner, rotate_partner_key, rotate_partner_secret, update_partner, Issued,
    MAX_KEY_OVERLAP_HOURS, SECRET_OVERLAP_MS,
};
pub use partners::{
    delete_partner, fail_over_pending, partner_changed, pause_partner, recheck_held,
    restore_status, resume_partner,
};
pub use sources::{create_source, rotate_source_token, update_source};
pub use test_lead::{send_test_lead, TestLead};
