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

/// The erasure webhook's host under the webhook's DNS rules, when it is new or changed.
pub(crate) async fn check_erasure_host(
    state: &AppState,
    spec: &leadrouter_core::partner::PartnerSpec,
    base: Option<&leadrouter_core::partner::PartnerSpec>,
    errors: &mut std::collections::BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) {
    let Some(url) = &spec.erasure_webhook_url else {
        return;
    };
    if base.is_some_and(|b| b.erasure_webhook_url.as_ref() == Some(url)) {
        return;
    }
    let Ok(w) = leadrouter_core::webhook_url::parse_webhook_url(url, &state.settings().allow)
    else {
        return; // validation already said why
    };
    match check_webhook_host(state, &w).await {
        DnsVerdict::Allowed => {}
        DnsVerdict::Blocked(problem) => {
            errors.insert("erasure_webhook_url".into(), problem);
        }
        DnsVerdict::Unresolved(name) => warnings.push(format!(
            "erasure webhook host {name} does not resolve yet; it is checked again before every notice"
        )),
    }
}
