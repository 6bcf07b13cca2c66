//! The seam between choosing a partner and reserving it. A stage that needs its own
//! step here (a ping to several partners for a price, a pre-check of the lead with the
//! partner) is one file beside this one and one line below: it may keep a decision back
//! (giving the lead a state and a lease of its own, to be routed again when it is done)
//! or change whom it goes to. None runs today: decisions pass through unchanged.

use super::Router;
use leadrouter_core::routing::batch::Decision;
use leadrouter_store::leads::LeadRecord;
use leadrouter_store::StoreError;
use std::collections::HashMap;

impl Router {
    /// Every stage, in order, over the batch's decisions.
    pub(super) async fn stages(
        &self,
        decisions: Vec<Decision>,
        _leads: &HashMap<i64, LeadRecord>,
    ) -> Result<Vec<Decision>, StoreError> {
        Ok(decisions)
    }
}
