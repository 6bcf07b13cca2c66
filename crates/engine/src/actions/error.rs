//! What an action answers when it does not do what was asked: the presenters (the JSON API,
//! the console's pages, the portal) each say it their own way.

use leadrouter_store::StoreError;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// What the action was about does not exist (said as what: "no such partner").
    #[error("{0}")]
    NotFound(&'static str),
    /// The input breaks a rule: one message per field, all at once.
    #[error("invalid fields")]
    Invalid(BTreeMap<String, String>),
    /// It clashes with what exists (said as what exists).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ActionError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ActionError::NotFound("not found"),
            StoreError::Conflict(what) => ActionError::Conflict(format!("{what} already exists")),
            other => ActionError::Store(other),
        }
    }
}
