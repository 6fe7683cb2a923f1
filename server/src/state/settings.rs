//! `[state]`: the Redis URL (any scheme fred takes, the password from a
//! secret), the call timeout, the key prefix, the refresh period; and what
//! a rule does when Redis fails (`on_redis_error`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use fred::types::config::Config as RedisConfig;
use rustls_pki_types::CertificateDer;
use serde::Deserialize;

use crate::config::files::SettingsError;
use crate::config::secret::{read_secret, SecretSource};

/// Default of `state.timeout_ms`: a Redis round trip on a LAN takes well
/// under a millisecond; a call this late is failing, and the callback
/// still has most of its deadline for the fallback.
pub const DEFAULT_TIMEOUT_MS: u64 = 50;

/// Default of `state.refresh_seconds`.
pub const DEFAULT_REFRESH_SECONDS: u64 = 5;

/// Default of `state.key_prefix`.
pub const DEFAULT_KEY_PREFIX: &str = "friendgate";

/// The URL schemes fred takes (Valkey's names too).
const SCHEMES: &[&str] = &[
    "redis",
    "rediss",
    "redis-cluster",
    "rediss-cluster",
    "redis-sentinel",
    "rediss-sentinel",
    "redis+unix",
    "valkey",
    "valkeys",
    "valkey-cluster",
    "valkeys-cluster",
    "valkey-sentinel",
    "valkeys-sentinel",
    "valkey+unix",
];

/// `[state]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StateSection {
    redis_url: UrlSource,
    #[serde(default)]
    password: Option<SecretSource>,
    #[serde(default = "default_timeout")]
    timeout_ms: u64,
    #[serde(default = "default_prefix")]
    key_prefix: String,
    #[serde(default = "default_refresh")]
    refresh_seconds: u64,
    #[serde(default)]
    ca_file: Option<PathBuf>,
}

/// The URL as a string, or from the environment or a file (managed Redis
/// often gives one URL with the password in it).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum UrlSource {
    Plain(String),
    Secret(SecretSource),
}

fn default_timeout() -> u64 {
    DEFAULT_TIMEOUT_MS
}

fn default_prefix() -> String {
    DEFAULT_KEY_PREFIX.to_owned()
}

fn default_refresh() -> u64 {
    DEFAULT_REFRESH_SECONDS
}

/// What a rule does when Redis does not answer in time (`on_redis_error`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnRedisError {
    /// The rule does not decide the item (the gate opens for it).
    Allow,
    /// The rule decides the item, with its own code and info.
    Reject,
    /// The rule decides in the process: a rate limit with a bucket of this
    /// replica (so N replicas allow up to N times the limit), an account
    /// list with its last snapshot (the default).
    #[default]
    Local,
}

impl OnRedisError {
    /// The name written in the config and in the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Reject => "reject",
            Self::Local => "local",
        }
    }
}

/// Validated `[state]`.
#[derive(Clone)]
pub struct StateSettings {
    pub(crate) config: RedisConfig,
    /// URL, password and CA as given, to tell a changed section on reload.
    source: (String, Option<String>, Vec<CertificateDer<'static>>),
    /// The URL with any password replaced by `***`, for logs.
    pub redis: String,
    /// Time one Redis call may take.
    pub timeout: Duration,
    /// Prefix of every key friendgate writes.
    pub key_prefix: String,
    /// Time after which a set's snapshot is re-read in any case.
    pub refresh: Duration,
}

impl PartialEq for StateSettings {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
            && self.timeout == other.timeout
            && self.key_prefix == other.key_prefix
            && self.refresh == other.refresh
    }
}

impl std::fmt::Debug for StateSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StateSettings")
            .field("redis", &self.redis)
            .field("timeout", &self.timeout)
            .field("key_prefix", &self.key_prefix)
            .field("refresh", &self.refresh)
            .finish_non_exhaustive()
    }
}

impl StateSettings {
    /// Validates `[state]`; `deadline` is `server.request_deadline`.
    pub(crate) fn build(
        path: &Path,
        base: &Path,
        section: StateSection,
        deadline: Duration,
    ) -> Result<Self, SettingsError> {
        let err =
            |key: &str, reason: String| SettingsError::new(path, format!("state.{key}"), reason);
        let url = match &section.redis_url {
            UrlSource::Plain(url) => url.clone(),
            UrlSource::Secret(source) => read_secret(path, base, "state.redis_url", source)?,
        };
        // fred's parse errors may quote the URL, which may hold a password.
        let scheme = url.split_once("://").map_or("", |(scheme, _)| scheme);
        let known = SCHEMES.contains(&scheme);
        let mut config = RedisConfig::from_url(if known { &url } else { "" }).map_err(|_| {
            err(
                "redis_url",
                format!(
                    "`{}` is not a Redis URL (redis://, rediss://, redis-sentinel://, redis-cluster://, redis+unix://; a sentinel URL needs ?sentinelServiceName=...)",
                    crate::config::redact::url(&url)
                ),
            )
        })?;
        let password = match &section.password {
            Some(source) => {
                let password = read_secret(path, base, "state.password", source)?;
                if password.is_empty() {
                    return Err(err("password", "is empty".to_owned()));
                }
                config.password = Some(password.clone());
                Some(password)
            }
            None => None,
        };
        let roots = match &section.ca_file {
            Some(file) => crate::http::tls::read_roots(path, base, "state.ca_file", file)?,
            None => Vec::new(),
        };
        if config.tls.is_some() {
            // rustls with the web's roots and `ca_file`, as for upstreams.
            let tls = crate::http::tls::client_config(&roots)
                .map_err(|e| err("redis_url", format!("TLS: {e}")))?;
            config.tls = Some(tls.into());
        } else if section.ca_file.is_some() {
            return Err(err(
                "ca_file",
                "applies to a TLS URL only (rediss://, rediss-sentinel://, rediss-cluster://)"
                    .to_owned(),
            ));
        }
        let timeout = Duration::from_millis(section.timeout_ms);
        if section.timeout_ms == 0 || timeout >= deadline / 2 {
            return Err(err(
                "timeout_ms",
                format!(
                    "must be between 1 and {} (half of server.request_deadline_ms), so that a callback whose Redis call failed still gets its fallback answer in time",
                    deadline.as_millis() / 2 - 1
                ),
            ));
        }
        let prefix = section.key_prefix;
        if prefix.is_empty() || prefix.contains(['{', '}']) || prefix.contains(char::is_whitespace)
        {
            return Err(err(
                "key_prefix",
                "must be non-empty, without braces (they make Redis Cluster hash tags) or spaces"
                    .to_owned(),
            ));
        }
        if !(1..=3600).contains(&section.refresh_seconds) {
            return Err(err(
                "refresh_seconds",
                "must be between 1 and 3600".to_owned(),
            ));
        }
        Ok(Self {
            config,
            redis: crate::config::redact::url(&url),
            source: (url, password, roots),
            timeout,
            key_prefix: prefix,
            refresh: Duration::from_secs(section.refresh_seconds),
        })
    }

    /// Defaults on `url` (tests of the store itself).
    #[cfg(test)]
    pub(crate) fn for_url(url: &str) -> Self {
        Self {
            config: RedisConfig::from_url(url).expect("a Redis URL"),
            source: (url.to_owned(), None, Vec::new()),
            redis: url.to_owned(),
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            key_prefix: DEFAULT_KEY_PREFIX.to_owned(),
            refresh: Duration::from_secs(DEFAULT_REFRESH_SECONDS),
        }
    }

    /// The channel on which `friendgate accounts` announces a changed set.
    pub fn changes_channel(&self) -> String {
        format!("{}:changed", self.key_prefix)
    }
}
