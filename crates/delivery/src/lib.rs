//! Outbound HTTPS to partners: name resolution with the SSRF guard, signing, the client,
//! the retry policy and the worker.

pub mod client;
pub mod dns;
pub mod facebook;
pub mod outbound;
pub mod settle;
pub mod worker;
