//! [`SettingsBuilder`]: the gateway's settings built in code, for Rust
//! services that embed it. It fills the same sections the config file does,
//! with the same defaults, and [`SettingsBuilder::build`] runs the same
//! checks, so a setting means one thing and fails one way in both.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use friendgate_core::{FailurePolicySpec, LimitOverrides};

use crate::config::files::SettingsError;
use crate::config::secret::SecretSource;
use crate::config::sections::{
    AdminSection, CallbackSection, FileSettings, LogFormat, OtherCommands, ServerSection,
    TlsSection,
};
use crate::config::settings::Settings;

impl Settings {
    /// Settings built in code, with the file's defaults and checks:
    /// `Settings::builder([1400000000]).token_env("FRIENDGATE_TOKEN").build()`.
    pub fn builder(app_ids: impl IntoIterator<Item = u64>) -> SettingsBuilder {
        SettingsBuilder::new(app_ids)
    }
}

/// What errors call the settings' origin, in place of a file name.
const IN_CODE: &str = "(in code)";

/// Builds [`Settings`] without a file. Rules come from the config file
/// only; an embedding service decides with its own
/// [`Decider`](friendgate_core::Decider) through
/// [`Gateway::with_decider`](crate::Gateway::with_decider).
///
/// ```
/// use std::time::Duration;
/// use friendgate_server::{Gateway, Settings};
///
/// let settings = Settings::builder([1400000000])
///     .token("xxxxyyyy") // or .token_env("FRIENDGATE_TOKEN")
///     .listen("127.0.0.1:8080".parse().unwrap())
///     .path("/callback")
///     .request_deadline(Duration::from_millis(1200))
///     .without_admin()
///     .build()
///     .expect("valid settings");
/// assert_eq!(settings.server.path, "/callback");
/// let gateway = Gateway::new(settings);
/// # drop(gateway);
/// ```
#[derive(Debug)]
#[must_use]
pub struct SettingsBuilder {
    file: FileSettings,
    base: PathBuf,
}

impl SettingsBuilder {
    pub(crate) fn new(app_ids: impl IntoIterator<Item = u64>) -> Self {
        Self {
            file: FileSettings {
                server: ServerSection::default(),
                callback: CallbackSection {
                    app_ids: app_ids.into_iter().collect(),
                    tokens: Vec::new(),
                    window_seconds: friendgate_core::config::DEFAULT_WINDOW_SECONDS,
                    limits: LimitOverrides::default(),
                    on_decider_error: None,
                    other_commands: OtherCommands::default(),
                },
                log: Default::default(),
                admin: AdminSection::default(),
                upstream: Default::default(),
                state: None,
                events: None,
                sources: Default::default(),
                rules: Vec::new(),
            },
            base: PathBuf::from("."),
        }
    }

    /// Adds a console token (several during rotation).
    pub fn token(self, token: impl Into<String>) -> Self {
        self.secret(SecretSource {
            value: Some(token.into()),
            ..SecretSource::default()
        })
    }

    /// Adds a token read from this environment variable when built.
    pub fn token_env(self, variable: impl Into<String>) -> Self {
        self.secret(SecretSource {
            env: Some(variable.into()),
            ..SecretSource::default()
        })
    }

    /// Adds a token read from this file when built.
    pub fn token_file(self, path: impl Into<PathBuf>) -> Self {
        self.secret(SecretSource {
            file: Some(path.into()),
            ..SecretSource::default()
        })
    }

    fn secret(mut self, source: SecretSource) -> Self {
        self.file.callback.tokens.push(source);
        self
    }

    /// Seconds a RequestTime may be from now (`callback.window_seconds`).
    pub fn window_seconds(mut self, seconds: u64) -> Self {
        self.file.callback.window_seconds = seconds;
        self
    }

    /// Size and count limits (`callback.limits`).
    pub fn limits(mut self, limits: LimitOverrides) -> Self {
        self.file.callback.limits = limits;
        self
    }

    /// What a failed decision gets (`callback.on_decider_error`).
    pub fn on_decider_error(mut self, policy: FailurePolicySpec) -> Self {
        self.file.callback.on_decider_error = Some(policy);
        self
    }

    /// What a callback of another command gets without an upstream.
    pub fn other_commands(mut self, answer: OtherCommands) -> Self {
        self.file.callback.other_commands = answer;
        self
    }

    /// Address to listen on (`server.listen`).
    pub fn listen(mut self, address: SocketAddr) -> Self {
        self.file.server.listen = address.to_string();
        self
    }

    /// Path the platform POSTs to (`server.path`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.file.server.path = path.into();
        self
    }

    /// Time a callback may take from its headers to its answer
    /// (`server.request_deadline_ms`, 100 to 1999 ms).
    pub fn request_deadline(mut self, deadline: Duration) -> Self {
        self.file.server.request_deadline_ms = millis(deadline);
        self
    }

    /// Callbacks handled at once (`server.max_in_flight`).
    pub fn max_in_flight(mut self, callbacks: usize) -> Self {
        self.file.server.max_in_flight = callbacks;
        self
    }

    /// Open connections at most (`server.max_connections`).
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.file.server.max_connections = connections;
        self
    }

    /// Time in-flight callbacks get on shutdown (`server.shutdown_grace_ms`).
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.file.server.shutdown_grace_ms = millis(grace);
        self
    }

    /// Serves HTTPS with this PEM certificate chain and key (`server.tls`).
    pub fn tls(mut self, cert: impl Into<PathBuf>, key: impl Into<PathBuf>) -> Self {
        self.file.server.tls = Some(TlsSection {
            cert: cert.into(),
            key: key.into(),
        });
        self
    }

    /// Log filter (`log.level`: `info`, `friendgate=debug`, ...).
    pub fn log_level(mut self, level: impl Into<String>) -> Self {
        self.file.log.level = level.into();
        self
    }

    /// Text or JSON lines (`log.format`).
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.file.log.format = format;
        self
    }

    /// The admin listener's address (`admin.listen`; on by default, on
    /// 127.0.0.1:9090).
    pub fn admin_listen(mut self, address: SocketAddr) -> Self {
        self.file.admin.enabled = true;
        self.file.admin.listen = address.to_string();
        self
    }

    /// No admin listener (`admin.enabled = false`).
    pub fn without_admin(mut self) -> Self {
        self.file.admin.enabled = false;
        self
    }

    /// Where relative paths (token files, TLS files) are read from
    /// (default: the working directory).
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base = dir.into();
        self
    }

    /// Checks everything as [`Settings::load`] does; errors name the
    /// setting by its config-file key.
    pub fn build(self) -> Result<Settings, SettingsError> {
        Settings::from_file(Path::new(IN_CODE), &self.base, self.file)
    }
}

/// Milliseconds, saturating (the checks then refuse what is out of range).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
