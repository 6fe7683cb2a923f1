//! # friendgate-server
//!
//! The reference gateway for Tencent Cloud Chat's
//! `Sns.CallbackPrevFriendResponse` callback, built on warp and
//! friendgate-core: a TOML-configured policy of ordered rules (account lists,
//! a word filter, a per-account rate limit, per-action rules), one structured
//! log line per callback, Prometheus metrics, health and readiness endpoints,
//! TLS, reload without restart and graceful shutdown.
//!
//! The `friendgate` binary is the usual way in (`cargo install --path server
//! --locked`); this library lets tests and Rust services start the same
//! server in-process, optionally with their own
//! [`Decider`](friendgate_core::Decider) in place of the rules
//! ([`Gateway::with_decider`]).
//!
//! Embedding it: settings from a file ([`Settings::load`]) or in code
//! ([`Settings::builder`], same defaults and checks), logging as the binary
//! does it ([`Gateway::init_logging`]), then [`cli::serve`] until SIGTERM
//! or [`Server::start`] to control the lifetime yourself.
//!
//! ```no_run
//! use std::sync::Arc;
//! use friendgate_server::{cli, Gateway, Settings};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = Settings::builder([1400000000]).token_env("FRIENDGATE_TOKEN").build()?;
//! let gateway = Arc::new(Gateway::new(settings));
//! let _logging = gateway.init_logging();
//! tokio::runtime::Runtime::new()?.block_on(cli::serve(gateway))?;
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub(crate) mod callback;
pub mod cli;
pub(crate) mod clock;
pub(crate) mod config;
pub mod decided;
pub mod events;
pub mod gateway;
pub(crate) mod http;
pub(crate) mod logging;
pub mod metrics;
pub mod policy;
pub mod server;
pub mod state;
pub mod upstream;

pub use config::builder::SettingsBuilder;
pub use config::settings::{Settings, SettingsError};
pub use gateway::Gateway;
pub use logging::writer::BatchGuard as LogGuard;
pub use server::{ServeError, Server};

// The paths of earlier releases, kept for embedders.
pub use admin::lists;
pub use cli as command;
pub use http::sources;
pub use logging::writer as logwriter;

/// The configuration, as earlier releases named it.
pub mod settings {
    pub use crate::config::builder::SettingsBuilder;
    pub use crate::config::settings::*;
}

/// The server, as earlier releases named it.
pub mod listener {
    pub use crate::server::{raise_descriptor_limit, ServeError, Server};
}
