//! What an operator account may do. `admin`: everything. `viewer`: every page and read,
//! but no change, no export of personal data and no erasure.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Admin,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Admin, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this role may change anything, export personal data or erase.
    pub fn may_change(self) -> bool {
        self == Role::Admin
    }

    /// What the role may do, in a sentence for the Users list.
    pub fn describe(self) -> &'static str {
        match self {
            Role::Admin => "may do everything",
            Role::Viewer => {
                "sees every page; changes, exports of personal data and erasure are refused"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_only_admins_change() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(Role::Admin.may_change() && !Role::Viewer.may_change());
    }
}
