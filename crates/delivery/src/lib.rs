//! Outbound HTTP: name resolution with the SSRF guard, the shared client builder, the
//! signed partner sender and the Facebook Graph client. No database, no loops: those are
//! the engine's.

pub mod client;
pub mod dns;
pub mod facebook;
pub mod outbound;
pub mod postmark;
