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
    DeliveryStatus {
        Pending => "pending",
        Delivered => "delivered",
        Rejected => "rejected",
        Failed => "failed",
        Withdrawn => "withdrawn",
    }
);

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
}
