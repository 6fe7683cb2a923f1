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
//! does it ([`Gateway::init_logging`]), then [`command::serve`] until SIGTERM
//! or [`Server::start`] to control the lifetime yourself.
//!
//! ```no_run
//! use std::sync::Arc;
//! use friendgate_server::{command, Gateway, Settings};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let settings = Settings::builder([1400000000]).token_env("FRIENDGATE_TOKEN").build()?;
//! let gateway = Arc::new(Gateway::new(settings));
//! let _logging = gateway.init_logging();
//! tokio::runtime::Runtime::new()?.block_on(command::serve(gateway))?;
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub(crate) mod builder;
pub mod command;
pub(crate) mod connections;
pub mod events;
pub(crate) mod files;
pub mod gateway;
pub(crate) mod idle;
pub(crate) mod linger;
pub mod listener;
pub mod lists;
pub(crate) mod logformat;
pub mod logwriter;
pub mod metrics;
pub(crate) mod normalize;
pub mod policy;
pub(crate) mod redact;
pub(crate) mod refusals;
pub(crate) mod routes;
pub mod settings;
pub mod sources;
pub mod state;
pub(crate) mod tls;
pub mod upstream;

pub use gateway::Gateway;
pub use listener::{ServeError, Server};
pub use logwriter::BatchGuard as LogGuard;
pub use settings::{Settings, SettingsBuilder, SettingsError};
