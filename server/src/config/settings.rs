//! The TOML configuration file: parsing, validation with errors that name the
//! file, the key and the reason, and secrets read from the environment or
//! from files (never required inline).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use friendgate_core::{Config, ConfigError, ConfigSpec};

use crate::config::files::resolve;
pub use crate::config::files::SettingsError;
use crate::config::secret::read_secret;
use crate::config::sections::{
    AdminSection, CallbackSection, FileSettings, ServerSection, HEADER_BYTES_RANGE,
};
pub use crate::config::sections::{LogFormat, OtherCommands};
use crate::events::EventsSettings;
use crate::http::sources::Sources;
use crate::policy::Policy;
use crate::state::StateSettings;
use crate::upstream::Upstreams;

/// The HTTP side of the settings (read at start; a reload does not change it).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Path the platform POSTs callbacks to.
    pub path: String,
    /// Time a callback may take from its headers to its answer.
    pub request_deadline: Duration,
    /// Time a client may take to send request headers (and idle keep-alive).
    pub header_timeout: Duration,
    /// Callbacks handled at once; more are answered 503.
    pub max_in_flight: usize,
    /// Open connections at most; past it, a new connection closes the
    /// oldest idle one (or is refused when none is idle).
    pub max_connections: usize,
    /// Largest request line and headers, in bytes (hyper's read buffer);
    /// more is answered 431.
    pub max_header_bytes: usize,
    /// Time in-flight callbacks get to finish on shutdown.
    pub shutdown_grace: Duration,
    /// Whether to poll the config and its list files for changes.
    pub watch_config: bool,
    /// TLS certificate chain and key, PEM.
    pub tls: Option<(PathBuf, PathBuf)>,
}

/// Logging settings.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// Text or JSON.
    pub format: LogFormat,
    /// A tracing filter (`info`, `friendgate=debug`, ...).
    pub level: String,
    /// Bytes of log lines held for a slow reader of standard output;
    /// further lines are dropped and counted.
    pub buffer_bytes: usize,
}

/// The admin listener: `/metrics`, `/readyz`, `/healthz`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminSettings {
    /// Address to listen on (loopback by default).
    pub listen: SocketAddr,
    /// Bearer token every admin request must carry, when set.
    pub token: Option<String>,
    /// Readers of the live stream (`/events`) at once; one more is refused.
    pub live_readers: usize,
}

/// The most `admin.live_readers` may be: each reader is a connection of
/// the admin listener and may hold a few messages.
pub const MAX_LIVE_READERS: usize = 1024;

/// A loaded, validated configuration.
#[derive(Debug)]
pub struct Settings {
    /// The config file it came from.
    pub path: PathBuf,
    /// HTTP settings.
    pub server: ServerSettings,
    /// The core's configuration (app ids, tokens, window, limits, failure policy).
    pub callback: Config,
    /// Logging.
    pub log: LogSettings,
    /// The admin listener, unless disabled.
    pub admin: Option<AdminSettings>,
    /// The ordered rules.
    pub policy: Policy,
    /// Where callbacks of other commands go.
    pub upstreams: Upstreams,
    /// What a callback of another command gets without an upstream.
    pub other_commands: OtherCommands,
    /// The source allowlist.
    pub sources: Sources,
    /// Shared state on Redis (`[state]`), when configured.
    pub state: Option<StateSettings>,
    /// Where events of answered callbacks go (`[events]`).
    pub events: EventsSettings,
    /// Files whose change should trigger a reload (the config and its lists).
    pub watched_files: Vec<PathBuf>,
}

impl Settings {
    /// Reads and validates `path`. Relative paths inside it are relative to
    /// its folder.
    pub fn load(path: &Path) -> Result<Self, SettingsError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SettingsError::new(path, "(file)", format!("cannot read: {e}")))?;
        let file: FileSettings = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        Self::from_file(path, path.parent().unwrap_or(Path::new(".")), file)
    }

    /// Validates the sections as read (`path` names them in errors; `base`
    /// anchors their relative paths).
    pub(crate) fn from_file(
        path: &Path,
        base: &Path,
        file: FileSettings,
    ) -> Result<Self, SettingsError> {
        let mut watched_files = vec![path.to_owned()];
        let server = server_settings(path, base, file.server)?;
        let other_commands = file.callback.other_commands;
        let callback = callback_config(path, base, file.callback)?;
        let upstreams = Upstreams::build(path, base, file.upstream, server.request_deadline)?;
        let sources = Sources::build(path, file.sources)?;
        let state = file
            .state
            .map(|section| StateSettings::build(path, base, section, server.request_deadline))
            .transpose()?;
        let policy = Policy::build(path, base, file.rules, state.as_ref(), &mut watched_files)?;
        let events = file
            .events
            .map(|section| EventsSettings::build(path, base, section, state.is_some()))
            .transpose()?
            .unwrap_or_default();
        let admin = admin_settings(path, base, file.admin)?;
        let level = file.log.level;
        if tracing_subscriber::EnvFilter::try_new(&level).is_err() {
            return Err(SettingsError::new(
                path,
                "log.level",
                format!("`{level}` is not a log filter (try `info` or `friendgate=debug`)"),
            ));
        }
        if file.log.buffer_bytes < 64 << 10 {
            return Err(SettingsError::new(
                path,
                "log.buffer_bytes",
                "must be at least 65536",
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            server,
            callback,
            log: LogSettings {
                format: file.log.format,
                level,
                buffer_bytes: file.log.buffer_bytes,
            },
            admin,
            policy,
            upstreams,
            other_commands,
            sources,
            state,
            events,
            watched_files,
        })
    }
}

fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> SettingsError {
    let at = error
        .span()
        .map(|span| {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            format!("line {line}")
        })
        .unwrap_or_else(|| "(file)".to_owned());
    SettingsError::new(path, at, error.message().to_owned())
}

fn server_settings(
    path: &Path,
    base: &Path,
    s: ServerSection,
) -> Result<ServerSettings, SettingsError> {
    let listen = s.listen.parse().map_err(|_| {
        SettingsError::new(
            path,
            "server.listen",
            format!("`{}` is not an address like 127.0.0.1:8080", s.listen),
        )
    })?;
    if !s.path.starts_with('/') {
        return Err(SettingsError::new(
            path,
            "server.path",
            "must start with `/`",
        ));
    }
    if !(100..2000).contains(&s.request_deadline_ms) {
        return Err(SettingsError::new(
            path,
            "server.request_deadline_ms",
            "must be between 100 and 1999: the platform waits 2000 ms, then lets everything through",
        ));
    }
    if s.header_timeout_ms < 100 {
        return Err(SettingsError::new(
            path,
            "server.header_timeout_ms",
            "must be at least 100",
        ));
    }
    if s.max_in_flight == 0 {
        return Err(SettingsError::new(
            path,
            "server.max_in_flight",
            "must be at least 1",
        ));
    }
    if s.max_connections == 0 {
        return Err(SettingsError::new(
            path,
            "server.max_connections",
            "must be at least 1",
        ));
    }
    if !HEADER_BYTES_RANGE.contains(&s.max_header_bytes) {
        return Err(SettingsError::new(
            path,
            "server.max_header_bytes",
            format!(
                "must be between {} and {}",
                HEADER_BYTES_RANGE.start(),
                HEADER_BYTES_RANGE.end()
            ),
        ));
    }
    let tls = s
        .tls
        .map(|tls| (resolve(base, &tls.cert), resolve(base, &tls.key)));
    if let Some((cert, key)) = &tls {
        for (name, file) in [("server.tls.cert", cert), ("server.tls.key", key)] {
            if !file.is_file() {
                return Err(SettingsError::new(
                    path,
                    name,
                    format!("{} is not a readable file", file.display()),
                ));
            }
        }
        // Loaded as `serve` loads them, so that a swapped or mismatched
        // pair is reported here rather than by the first TLS client.
        crate::http::tls::server_config(cert, key)
            .map_err(|e| SettingsError::new(path, "server.tls", e.to_string()))?;
    }
    Ok(ServerSettings {
        listen,
        path: s.path,
        request_deadline: Duration::from_millis(s.request_deadline_ms),
        header_timeout: Duration::from_millis(s.header_timeout_ms),
        max_in_flight: s.max_in_flight,
        max_connections: s.max_connections,
        max_header_bytes: s.max_header_bytes,
        shutdown_grace: Duration::from_millis(s.shutdown_grace_ms),
        watch_config: s.watch_config,
        tls,
    })
}

fn admin_settings(
    path: &Path,
    base: &Path,
    a: AdminSection,
) -> Result<Option<AdminSettings>, SettingsError> {
    if !a.enabled {
        return Ok(None);
    }
    let listen = a.listen.parse().map_err(|_| {
        SettingsError::new(
            path,
            "admin.listen",
            format!("`{}` is not an address like 127.0.0.1:9090", a.listen),
        )
    })?;
    let token = match &a.token {
        Some(source) => {
            let token = read_secret(path, base, "admin.token", source)?;
            if token.is_empty() {
                return Err(SettingsError::new(path, "admin.token", "is empty"));
            }
            Some(token)
        }
        None => None,
    };
    if !(1..=MAX_LIVE_READERS).contains(&a.live_readers) {
        return Err(SettingsError::new(
            path,
            "admin.live_readers",
            format!(
                "is {}; readers of the live stream at once, from 1 to {MAX_LIVE_READERS}",
                a.live_readers
            ),
        ));
    }
    Ok(Some(AdminSettings {
        listen,
        token,
        live_readers: a.live_readers,
    }))
}

fn callback_config(path: &Path, base: &Path, c: CallbackSection) -> Result<Config, SettingsError> {
    let mut tokens = Vec::with_capacity(c.tokens.len());
    for (index, source) in c.tokens.iter().enumerate() {
        let key = format!("callback.tokens[{index}]");
        let secret = read_secret(path, base, &key, source)?;
        if secret.is_empty() {
            return Err(SettingsError::new(
                path,
                &key,
                ConfigError::EmptyToken.to_string(),
            ));
        }
        tokens.push(secret);
    }
    let spec = ConfigSpec {
        app_ids: c.app_ids,
        tokens,
        window_seconds: Some(c.window_seconds),
        limits: Some(c.limits),
        on_decider_error: c.on_decider_error,
        decider_deadline_ms: None,
    };
    spec.build().map_err(|e| {
        let key = match &e {
            ConfigError::NoAppIds => "callback.app_ids".to_owned(),
            ConfigError::LimitOutOfRange { name, .. } => format!("callback.limits.{name}"),
            ConfigError::InvalidFailureCode { .. } => "callback.on_decider_error.code".to_owned(),
            _ => "callback".to_owned(),
        };
        SettingsError::new(path, key, e.to_string())
    })
}
