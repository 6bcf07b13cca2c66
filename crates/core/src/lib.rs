//! leadrouter's domain: types and rules as plain functions over plain data.
//!
//! Nothing here does I/O, spawns tasks or knows about HTTP or SQL; the other crates call in.

pub mod audit;
pub mod capacity;
pub mod catalog;
pub mod clock;
pub mod consent;
pub mod conversion;
pub mod erasure;
pub mod facebook;
pub mod filters;
#[cfg(test)]
mod fuzz;
pub mod hours;
pub mod input;
pub mod known;
pub mod lead;
pub mod localtime;
pub mod login;
pub mod market;
pub mod money;
pub mod notice;
pub mod outcome;
pub mod pacing;
pub mod partner;
pub mod phone;
pub mod postback;
pub mod reply;
pub mod retry;
pub mod returns;
pub mod role;
pub mod routing;
pub mod sealed;
pub mod secret;
pub mod signing;
pub mod source;
pub mod ssrf;
pub mod status;
pub mod text;
pub mod token;
pub mod transform;
pub mod webhook_url;
pub mod windows;
