//! The kinds of mail the platform writes: one variant each, with its own template in
//! `engine/templates/mail/` and its own trigger. A new kind of notification is one variant
//! here, one template and one call where it happens.

use crate::status::text_enum;

text_enum!(
    /// What a mail is about (stored with it, listed and filtered by it).
    MailKind {
        PartnerWelcome => "partner_welcome",
        PartnerFailing => "partner_failing",
        PartnerPaused => "partner_paused",
        ErasureNotice => "erasure_notice",
        PortalInvite => "portal_invite",
        SupplierInvite => "supplier_invite",
        DailySummary => "daily_summary",
        DailyLimitReached => "daily_limit_reached",
        HeldBacklog => "held_backlog",
    }
);

impl MailKind {
    /// The mail's dedupe key: its kind and what makes it one (a partner, a day, a
    /// streak): the same key twice is one mail.
    pub fn key(self, parts: &[&dyn std::fmt::Display]) -> String {
        let mut key = self.as_str().to_string();
        for p in parts {
            key.push(':');
            key.push_str(&p.to_string());
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_and_keys_name_their_kind() {
        for k in MailKind::ALL {
            assert_eq!(MailKind::parse(k.as_str()), Some(*k));
        }
        assert_eq!(
            MailKind::DailySummary.key(&[&7, &"2026-12-06"]),
            "daily_summary:7:2026-12-06"
        );
    }
}
