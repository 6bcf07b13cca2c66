//! Fresh random secrets, in the formats API.md promises: the engine's, which issues them
//! with the actions that need them.

pub use leadrouter_engine::secrets::*;
