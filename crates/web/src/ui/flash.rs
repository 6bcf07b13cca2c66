//! What a page shows once after a redirect: the secrets of a partner or source just
//! created or rotated, and a notice. Kept in this process's memory only, by session, for
//! a few minutes, and removed when shown: secrets are never written to the database in the
//! clear. (Behind a load balancer without sticky sessions the page after the redirect may
//! land on another instance and not show them; rotating shows new ones.)

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Default)]
pub(crate) struct Flash {
    pub notice: Option<String>,
    /// (label, value) pairs shown once, e.g. ("API key", "pk_...").
    pub secrets: Vec<(String, String)>,
    /// Where the flash belongs (a page path); another page leaves it for its own.
    pub for_path: String,
}

#[derive(Default)]
pub(crate) struct Flashes {
    by_session: Mutex<HashMap<String, (Flash, Instant)>>,
}

const KEEP: Duration = Duration::from_secs(600);

impl Flashes {
    pub fn put(&self, session_hash: &str, flash: Flash) {
        let mut map = self.by_session.lock().expect("flashes");
        map.retain(|_, (_, at)| at.elapsed() < KEEP);
        map.insert(session_hash.to_string(), (flash, Instant::now()));
    }

    /// The flash for this page of this session, removed as it is taken.
    pub fn take(&self, session_hash: &str, path: &str) -> Flash {
        let mut map = self.by_session.lock().expect("flashes");
        match map.get(session_hash) {
            Some((f, at)) if f.for_path == path && at.elapsed() < KEEP => {
                map.remove(session_hash).map(|(f, _)| f).unwrap_or_default()
            }
            _ => Flash::default(),
        }
    }
}

/// Sends the browser to `path`, which then shows `notice` once.
pub(crate) fn redirect_with_notice(
    state: &crate::AppState,
    op: &crate::operator::Operator,
    path: &str,
    notice: impl Into<String>,
) -> axum::response::Response {
    redirect_with(state, op, path, Some(notice.into()), vec![])
}

/// Sends the browser to `path`, which then shows `notice` and `secrets` once.
pub(crate) fn redirect_with(
    state: &crate::AppState,
    op: &crate::operator::Operator,
    path: &str,
    notice: Option<String>,
    secrets: Vec<(String, String)>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    state.flashes().put(
        &op.session_hash,
        Flash {
            notice,
            secrets,
            for_path: path.to_string(),
        },
    );
    axum::response::Redirect::to(path).into_response()
}
