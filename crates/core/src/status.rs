//! The states a lead, a partner, a delivery and an attempt can be in, as stored and shown
//! (API.md "Lead status", "Delivery status").

macro_rules! text_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub(crate) use text_enum;

text_enum!(
    /// Where a lead is on its journey.
    LeadStatus {
        Queued => "queued",
        Held => "held",
        Assigned => "assigned",
        Delivered => "delivered",
        Failed => "failed",
        Expired => "expired",
        Duplicate => "duplicate",
        Returned => "returned",
    }
);

text_enum!(
    /// Why a partner returns a lead.
    ReturnReason {
        InvalidContact => "invalid_contact",
        Duplicate => "duplicate",
        WrongCountry => "wrong_country",
        NotInterested => "not_interested",
        Other => "other",
    }
);

text_enum!(
    /// Where a return is: waiting for the operator, or decided.
    ReturnStatus {
        Pending => "pending",
        Approved => "approved",
        Declined => "declined",
    }
);

text_enum!(
    /// Whether a partner takes leads now.
    PartnerStatus {
        Active => "active",
        Paused => "paused",
    }
);

text_enum!(
    /// One lead's delivery to one partner. `withdrawn`: ended because the partner was
    /// paused, which is not the partner's try (after Resume the lead may go back to it).
    /// `duplicate`: the partner already has this person (it said so in its answer).
    DeliveryStatus {
        Pending => "pending",
        Delivered => "delivered",
        Rejected => "rejected",
        Failed => "failed",
        Withdrawn => "withdrawn",
        Duplicate => "duplicate",
    }
);

text_enum!(
    /// A mail in the outbox: waiting to be sent, sent, failed for good, or only recorded
    /// (no mail service is configured).
    MailStatus {
        Queued => "queued",
        Sent => "sent",
        Failed => "failed",
        Recorded => "recorded",
    }
);

text_enum!(
    /// A `lead.erased` notice to a partner's erasure webhook.
    NoticeStatus {
        Pending => "pending",
        Sent => "sent",
        Failed => "failed",
    }
);

text_enum!(
    /// Whether a source's token is accepted.
    SourceStatus {
        Active => "active",
        Disabled => "disabled",
    }
);

/// Every state word of every lifecycle: what a status written into SQL may be.
pub fn every_state_word() -> Vec<&'static str> {
    let mut words: Vec<&'static str> = Vec::new();
    words.extend(LeadStatus::ALL.iter().map(|s| s.as_str()));
    words.extend(DeliveryStatus::ALL.iter().map(|s| s.as_str()));
    words.extend(ReturnStatus::ALL.iter().map(|s| s.as_str()));
    words.extend(PartnerStatus::ALL.iter().map(|s| s.as_str()));
    words.extend(MailStatus::ALL.iter().map(|s| s.as_str()));
    words.extend(NoticeStatus::ALL.iter().map(|s| s.as_str()));
    words.extend(SourceStatus::ALL.iter().map(|s| s.as_str()));
    words.extend(AttemptOutcome::ALL.iter().map(|s| s.as_str()));
    words.sort_unstable();
    words.dedup();
    words
}

/// The lead's lifecycle: the only lists of which states allow what. Routing, the
/// operator's actions, the SQL that guards each transition and the pages all read these.
impl LeadStatus {
    /// States routing picks a lead up from.
    pub const ROUTABLE: &'static [LeadStatus] = &[LeadStatus::Queued, LeadStatus::Held];
    /// States an operator's Retry sends back to routing.
    pub const RETRYABLE: &'static [LeadStatus] =
        &[LeadStatus::Held, LeadStatus::Failed, LeadStatus::Expired];
    /// States an operator may assign a lead from (to a partner of its choice).
    pub const ASSIGNABLE: &'static [LeadStatus] = &[
        LeadStatus::Queued,
        LeadStatus::Held,
        LeadStatus::Failed,
        LeadStatus::Expired,
        LeadStatus::Duplicate,
    ];
    /// States of a lead still on its way (not yet at an end): what waits, and what an
    /// erasure withdraws.
    pub const ON_ITS_WAY: &'static [LeadStatus] =
        &[LeadStatus::Queued, LeadStatus::Held, LeadStatus::Assigned];

    pub fn routable(self) -> bool {
        LeadStatus::ROUTABLE.contains(&self)
    }

    pub fn retryable(self) -> bool {
        LeadStatus::RETRYABLE.contains(&self)
    }

    pub fn assignable(self) -> bool {
        LeadStatus::ASSIGNABLE.contains(&self)
    }
}

/// `('queued', 'held')`: a list of states as SQL text, for `status IN ...`. States are
/// our own words (never input), so they are written into the statement.
pub fn sql_list<T: Copy>(states: &[T], text: impl Fn(T) -> &'static str) -> String {
    let quoted: Vec<String> = states.iter().map(|s| format!("'{}'", text(*s))).collect();
    format!("({})", quoted.join(", "))
}

impl ReturnReason {
    /// What people read for the reason (the console's queue, the portal's form and list).
    pub fn label(self) -> &'static str {
        match self {
            ReturnReason::InvalidContact => "Invalid contact details",
            ReturnReason::Duplicate => "Duplicate",
            ReturnReason::WrongCountry => "Wrong country",
            ReturnReason::NotInterested => "Not interested",
            ReturnReason::Other => "Other",
        }
    }

    /// The label of a stored reason code (the code itself if it is none of ours).
    pub fn label_of(code: &str) -> &str {
        match ReturnReason::parse(code) {
            Some(r) => r.label(),
            None => code,
        }
    }
}

impl ReturnStatus {
    /// Whether the operator has yet to decide it.
    pub fn awaits_decision(self) -> bool {
        self == ReturnStatus::Pending
    }
}

/// "a, b, c": every state of a list, for the messages that name them.
pub fn listed<T: Copy>(all: &[T], text: impl Fn(T) -> &'static str) -> String {
    all.iter().map(|s| text(*s)).collect::<Vec<_>>().join(", ")
}

text_enum!(
    /// How one attempt ended, as recorded.
    AttemptOutcome {
        Delivered => "delivered",
        Retry => "retry",
        Rejected => "rejected",
        Failed => "failed",
        Blocked => "blocked",
        Duplicate => "duplicate",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_as_written() {
        for s in LeadStatus::ALL {
            assert_eq!(LeadStatus::parse(s.as_str()), Some(*s));
        }
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(*s));
        }
        for s in AttemptOutcome::ALL {
            assert_eq!(AttemptOutcome::parse(&s.to_string()), Some(*s));
        }
        for s in PartnerStatus::ALL {
            assert_eq!(PartnerStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(LeadStatus::parse("Queued"), None);
    }

    #[test]
    fn the_lifecycle_lists_agree_with_their_predicates() {
        for s in LeadStatus::ALL {
            assert_eq!(s.routable(), LeadStatus::ROUTABLE.contains(s));
            assert_eq!(s.retryable(), LeadStatus::RETRYABLE.contains(s));
            assert_eq!(s.assignable(), LeadStatus::ASSIGNABLE.contains(s));
        }
        // A delivered or returned lead is never routed, retried or reassigned.
        for s in [
            LeadStatus::Delivered,
            LeadStatus::Returned,
            LeadStatus::Assigned,
        ] {
            assert!(!s.routable() && !s.retryable() && !s.assignable(), "{s}");
        }
        assert_eq!(
            sql_list(LeadStatus::ROUTABLE, LeadStatus::as_str),
            "('queued', 'held')"
        );
    }
}
