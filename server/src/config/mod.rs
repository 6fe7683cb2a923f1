//! The configuration: the file (`settings`), its sections' shared pieces,
//! and the leaves every section may use: errors that name the file and key
//! (`files`), secrets (`secret`), URLs without their secrets (`redact`).
//! Each section's own settings live beside its runtime (`policy/spec.rs`,
//! `state/settings.rs`, `events`, `upstream`, `http/sources.rs`);
//! `settings` assembles them.

pub(crate) mod builder;
pub(crate) mod files;
pub(crate) mod redact;
pub(crate) mod secret;
pub(crate) mod sections;
pub mod settings;
