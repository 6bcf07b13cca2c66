//! The DNS half of the SSRF guard for a partner's webhook host, as the admin API applies it
//! (the delivery client applies the same check again, pinned, at every delivery).

use crate::AppState;
use leadrouter_core::webhook_url::{check_resolved, WebhookHost, WebhookUrl};

pub(crate) enum DnsVerdict {
    /// An IP literal, or a name whose every address is allowed.
    Allowed,
    /// The name resolves to a blocked address (the reason, ready to show).
    Blocked(String),
    /// The name does not resolve (yet).
    Unresolved(String),
}

pub(crate) async fn check_webhook_host(state: &AppState, webhook: &WebhookUrl) -> DnsVerdict {
    let WebhookHost::Name(name) = &webhook.host else {
        return DnsVerdict::Allowed;
    };
    match state.resolver().resolve(name).await {
        Ok(ips) if !ips.is_empty() => match check_resolved(name, &ips, &state.settings().allow) {
            Ok(()) => DnsVerdict::Allowed,
            Err(problem) => DnsVerdict::Blocked(problem.to_string()),
        },
        _ => DnsVerdict::Unresolved(name.clone()),
    }
}
