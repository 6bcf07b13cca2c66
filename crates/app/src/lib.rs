//! The leadrouter binary's library: configuration, command line and startup, so that tests
//! can start the real server in-process on port 0.

pub mod cli;
pub mod config;
pub mod http_server;
pub mod import;
pub mod startup;
pub mod telemetry;
