//! What a viewer may do: look at every page and read every GET, change its own password
//! and timezone, and log out. Any other change, an export of personal data (the leads CSV,
//! a lead's evidence) or an erasure is refused with 403, on the console and on the admin
//! API alike. Decided here once, by method and path, before any handler runs.

use axum::http::Method;

/// The console's posts that are an operator's own business, allowed to every role.
const OWN_ACCOUNT: [&str; 3] = [
    "/admin/logout",
    "/admin/settings/password",
    "/admin/settings/timezone",
];

/// Whether a viewer may make this request.
pub(crate) fn viewer_may(method: &Method, path: &str) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if read {
        !exports_personal_data(path)
    } else {
        OWN_ACCOUNT.contains(&path)
    }
}

/// Reads that hand out personal data in bulk or as a file.
fn exports_personal_data(path: &str) -> bool {
    path == "/admin/leads.csv"
        || (path.starts_with("/api/admin/leads/") && path.ends_with("/evidence"))
        || (path.starts_with("/admin/leads/") && path.ends_with("/evidence.json"))
}

/// What a refused viewer is told.
pub(crate) const VIEWER_REFUSED: &str =
    "your account is a viewer: it may look at everything but change nothing, export no \
     personal data and erase nothing; ask an admin";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_reads_but_neither_changes_nor_exports() {
        assert!(viewer_may(&Method::GET, "/admin/leads"));
        assert!(viewer_may(&Method::GET, "/api/admin/partners"));
        assert!(viewer_may(&Method::POST, "/admin/settings/password"));
        assert!(!viewer_may(&Method::POST, "/admin/partners/1/pause"));
        assert!(!viewer_may(&Method::PUT, "/api/admin/partners/1"));
        assert!(!viewer_may(&Method::GET, "/admin/leads.csv"));
        assert!(!viewer_may(&Method::GET, "/api/admin/leads/7/evidence"));
        assert!(!viewer_may(&Method::POST, "/api/admin/privacy/erase"));
        assert!(!viewer_may(&Method::GET, "/admin/leads/7/evidence.json"));
    }
}
