//! The configuration file as written: one struct per TOML table, with the
//! defaults of its keys. `settings` validates them into [`Settings`]
//! (crate::config::settings::Settings); each section's own settings are
//! built beside its runtime.

use std::path::PathBuf;

use friendgate_core::{FailurePolicySpec, LimitOverrides};
use serde::Deserialize;

use crate::config::secret::{secret_list, SecretSource};
use crate::events::EventsSection;
use crate::http::sources::SourcesSection;
use crate::policy::RuleSpec;
use crate::state::StateSection;
use crate::upstream::UpstreamSection;

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileSettings {
    #[serde(default)]
    pub(crate) server: ServerSection,
    pub(crate) callback: CallbackSection,
    #[serde(default)]
    pub(crate) log: LogSection,
    #[serde(default)]
    pub(crate) admin: AdminSection,
    #[serde(default)]
    pub(crate) upstream: UpstreamSection,
    #[serde(default)]
    pub(crate) sources: SourcesSection,
    #[serde(default)]
    pub(crate) state: Option<StateSection>,
    #[serde(default)]
    pub(crate) events: Option<EventsSection>,
    #[serde(default, rename = "rule")]
    pub(crate) rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct ServerSection {
    pub(crate) listen: String,
    pub(crate) path: String,
    pub(crate) request_deadline_ms: u64,
    pub(crate) header_timeout_ms: u64,
    pub(crate) max_in_flight: usize,
    pub(crate) max_connections: usize,
    pub(crate) max_header_bytes: usize,
    pub(crate) shutdown_grace_ms: u64,
    pub(crate) watch_config: bool,
    pub(crate) tls: Option<TlsSection>,
}

/// Default of `server.max_connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;

/// Default of `server.max_header_bytes`: the platform's request line and
/// headers take well under 1 KiB.
pub const DEFAULT_MAX_HEADER_BYTES: usize = 16 << 10;

/// Bounds of `server.max_header_bytes` (hyper's buffer cannot be smaller
/// than 8 KiB).
pub(crate) const HEADER_BYTES_RANGE: std::ops::RangeInclusive<usize> = 8192..=(1 << 20);

impl Default for ServerSection {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            path: "/".to_owned(),
            request_deadline_ms: 1500,
            header_timeout_ms: 10_000,
            max_in_flight: 512,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_header_bytes: DEFAULT_MAX_HEADER_BYTES,
            shutdown_grace_ms: 10_000,
            watch_config: false,
            tls: None,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct AdminSection {
    pub(crate) enabled: bool,
    pub(crate) listen: String,
    pub(crate) token: Option<SecretSource>,
    pub(crate) live_readers: usize,
}

impl Default for AdminSection {
    fn default() -> Self {
        Self {
            enabled: true,
            listen: "127.0.0.1:9090".to_owned(),
            token: None,
            live_readers: crate::events::live::DEFAULT_LIVE_READERS,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TlsSection {
    pub(crate) cert: PathBuf,
    pub(crate) key: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CallbackSection {
    pub(crate) app_ids: Vec<u64>,
    #[serde(default, deserialize_with = "secret_list")]
    pub(crate) tokens: Vec<SecretSource>,
    #[serde(default = "default_window")]
    pub(crate) window_seconds: u64,
    #[serde(default)]
    pub(crate) limits: LimitOverrides,
    #[serde(default)]
    pub(crate) on_decider_error: Option<FailurePolicySpec>,
    #[serde(default)]
    pub(crate) other_commands: OtherCommands,
}

/// What an authenticated callback of another command gets when no upstream
/// takes it (`callback.other_commands`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OtherCommands {
    /// 200 with core's "processed, go on" answer (the default: an endpoint at
    /// the one URL must not break the app's other callbacks).
    #[default]
    AnswerOk,
    /// Refused with `unexpected_command` (an endpoint that serves this
    /// callback alone).
    Refuse,
}

pub(crate) fn default_window() -> u64 {
    friendgate_core::config::DEFAULT_WINDOW_SECONDS
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct LogSection {
    pub(crate) format: LogFormat,
    pub(crate) level: String,
    pub(crate) buffer_bytes: usize,
}

impl Default for LogSection {
    fn default() -> Self {
        Self {
            format: LogFormat::Text,
            level: "info".to_owned(),
            buffer_bytes: crate::logging::writer::DEFAULT_CAPACITY,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}
