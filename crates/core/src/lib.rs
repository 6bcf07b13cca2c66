//! leadrouter's domain: types and rules as plain functions over plain data.
//!
//! Nothing here does I/O, spawns tasks or knows about HTTP or SQL; the other crates call in.

pub mod clock;
pub mod market;
pub mod token;
