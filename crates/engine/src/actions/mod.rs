//! What operators and the loops both do to partners and leads, in one place each.

mod leads;
mod partners;

pub use leads::{assign_lead, retry_delivery, retry_lead, Assigned, NotAssigned};
pub use partners::{
    delete_partner, fail_over_pending, partner_changed, pause_partner, recheck_held, resume_partner,
};
