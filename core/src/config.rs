//! What an endpoint accepts: its app ids, its tokens, the freshness window,
//! the body limits, and what to do when a decider fails.

use std::fmt;
use std::time::Duration;

use thiserror::Error;

use crate::decision::FailurePolicy;
pub use crate::limits::{LimitOverrides, Limits};

/// Default freshness window for `RequestTime`, in seconds, each way.
pub const DEFAULT_WINDOW_SECONDS: u64 = 60;

/// Default time a decider may take for a whole callback. The platform waits
/// 2 s and then lets everything through; this leaves room for the network.
pub const DEFAULT_DECIDER_DEADLINE: Duration = Duration::from_millis(1500);

/// Deepest nesting `Limits::max_depth` may be set to (the JSON parser's own
/// recursion guard sits above it).
pub const MAX_DEPTH_CEILING: usize = 100;

/// A callback Token from the console. Its `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl Token {
    /// Wraps a token; it must not be empty.
    pub fn new(secret: impl Into<String>) -> Result<Self, ConfigError> {
        let secret = secret.into();
        if secret.is_empty() {
            return Err(ConfigError::EmptyToken);
        }
        Ok(Self(secret))
    }

    /// The secret, for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// A configuration that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No app id was given, so every callback would be refused.
    #[error("at least one app id is required")]
    NoAppIds,
    /// A token is the empty string.
    #[error("a token must not be empty")]
    EmptyToken,
    /// A limit is outside what the callback needs to work.
    #[error("limit `{name}` is {value}; it must be between {min} and {max}")]
    LimitOutOfRange {
        /// Field of [`Limits`].
        name: &'static str,
        /// The value given.
        value: usize,
        /// Smallest accepted value.
        min: usize,
        /// Largest accepted value.
        max: usize,
    },
    /// The decider deadline is zero or not under the platform's 2 s.
    #[error("decider deadline must be above 0 and below 2000 ms, got {millis} ms")]
    DeadlineOutOfRange {
        /// The deadline given.
        millis: u128,
    },
    /// The failure policy's result code is outside `[38000, 39000]`.
    #[error("on_decider_error.code: result code {code} is outside [38000, 39000]")]
    InvalidFailureCode {
        /// The code given.
        code: i64,
    },
    /// A setting has the wrong name, type or form (from a [`ConfigSpec`](crate::ConfigSpec)).
    #[error("{reason}")]
    InvalidSetting {
        /// What is wrong, naming the setting.
        reason: String,
    },
}

impl ConfigError {
    /// Stable snake_case identifier.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoAppIds => "no_app_ids",
            Self::EmptyToken => "empty_token",
            Self::LimitOutOfRange { .. } => "limit_out_of_range",
            Self::DeadlineOutOfRange { .. } => "deadline_out_of_range",
            Self::InvalidFailureCode { .. } => "invalid_result_code",
            Self::InvalidSetting { .. } => "invalid_setting",
        }
    }
}

/// Everything [`handle`](crate::handle) needs besides the request. Build it
/// with [`Config::builder`].
#[derive(Debug, Clone)]
pub struct Config {
    app_ids: Vec<u64>,
    tokens: Vec<Token>,
    window_seconds: u64,
    limits: Limits,
    on_decider_error: FailurePolicy,
    decider_deadline: Duration,
}

impl Config {
    /// Starts a configuration that accepts callbacks for `app_id`.
    pub fn builder(app_id: u64) -> ConfigBuilder {
        ConfigBuilder {
            app_ids: vec![app_id],
            tokens: Vec::new(),
            window_seconds: DEFAULT_WINDOW_SECONDS,
            limits: Limits::default(),
            on_decider_error: FailurePolicy::default(),
            decider_deadline: DEFAULT_DECIDER_DEADLINE,
        }
    }

    /// Accepted `SdkAppid` values.
    pub fn app_ids(&self) -> &[u64] {
        &self.app_ids
    }

    /// Accepted tokens; empty means authentication is off.
    pub fn tokens(&self) -> &[Token] {
        &self.tokens
    }

    /// Whether `Sign` and `RequestTime` are required.
    pub fn authentication_on(&self) -> bool {
        !self.tokens.is_empty()
    }

    /// Seconds `RequestTime` may be behind or ahead of now.
    pub fn window_seconds(&self) -> u64 {
        self.window_seconds
    }

    /// Body limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// What to answer for an item whose decider failed or was late.
    pub fn on_decider_error(&self) -> &FailurePolicy {
        &self.on_decider_error
    }

    /// How long deciders may take for one callback, for hosts that can
    /// enforce it (async bindings, the server).
    pub fn decider_deadline(&self) -> Duration {
        self.decider_deadline
    }
}

/// Builder for [`Config`]; [`build`](Self::build) checks it.
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    app_ids: Vec<u64>,
    tokens: Vec<Token>,
    window_seconds: u64,
    limits: Limits,
    on_decider_error: FailurePolicy,
    decider_deadline: Duration,
}

impl ConfigBuilder {
    /// Replaces the accepted app ids.
    pub fn app_ids(mut self, app_ids: impl IntoIterator<Item = u64>) -> Self {
        self.app_ids = app_ids.into_iter().collect();
        self
    }

    /// Adds an accepted app id.
    pub fn app_id(mut self, app_id: u64) -> Self {
        self.app_ids.push(app_id);
        self
    }

    /// Adds a token; several are accepted at once during rotation.
    pub fn token(mut self, token: Token) -> Self {
        self.tokens.push(token);
        self
    }

    /// Sets the `RequestTime` window in seconds (each way).
    pub fn window_seconds(mut self, seconds: u64) -> Self {
        self.window_seconds = seconds;
        self
    }

    /// Sets the body limits.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets the answer for items whose decider failed.
    pub fn on_decider_error(mut self, policy: FailurePolicy) -> Self {
        self.on_decider_error = policy;
        self
    }

    /// Sets the time deciders may take for one callback.
    pub fn decider_deadline(mut self, deadline: Duration) -> Self {
        self.decider_deadline = deadline;
        self
    }

    /// Checks the settings and builds the configuration.
    pub fn build(mut self) -> Result<Config, ConfigError> {
        if self.app_ids.is_empty() {
            return Err(ConfigError::NoAppIds);
        }
        self.app_ids.sort_unstable();
        self.app_ids.dedup();
        check_limits(&self.limits)?;
        if self.decider_deadline.is_zero() || self.decider_deadline >= Duration::from_secs(2) {
            return Err(ConfigError::DeadlineOutOfRange {
                millis: self.decider_deadline.as_millis(),
            });
        }
        Ok(Config {
            app_ids: self.app_ids,
            tokens: self.tokens,
            window_seconds: self.window_seconds,
            limits: self.limits,
            on_decider_error: self.on_decider_error,
            decider_deadline: self.decider_deadline,
        })
    }
}

fn check_limits(limits: &Limits) -> Result<(), ConfigError> {
    // Minimums are what the smallest genuine callback needs.
    let checks = [
        ("max_body_bytes", limits.max_body_bytes, 64, 64 << 20),
        ("max_items", limits.max_items, 1, 1_000_000),
        ("max_user_id_bytes", limits.max_user_id_bytes, 1, 4096),
        ("max_remark_bytes", limits.max_remark_bytes, 0, 1 << 20),
        ("max_tag_name_bytes", limits.max_tag_name_bytes, 0, 1 << 20),
        ("max_depth", limits.max_depth, 3, MAX_DEPTH_CEILING),
    ];
    for (name, value, min, max) in checks {
        if !(min..=max).contains(&value) {
            return Err(ConfigError::LimitOutOfRange {
                name,
                value,
                min,
                max,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_debug_is_redacted() {
        let token = Token::new("s3cret").unwrap();
        assert!(!format!("{token:?}").contains("s3cret"));
        assert_eq!(Token::new(""), Err(ConfigError::EmptyToken));
    }

    #[test]
    fn limit_overrides_keep_unnamed_defaults() {
        let overrides: LimitOverrides = serde_json::from_str(r#"{"max_items": 3}"#).unwrap();
        let limits = overrides.apply(Limits::default());
        assert_eq!(limits.max_items, 3);
        assert_eq!(limits.max_body_bytes, Limits::default().max_body_bytes);
        assert!(serde_json::from_str::<LimitOverrides>(r#"{"max_itemz": 3}"#).is_err());
    }

    #[test]
    fn builder_checks_settings() {
        assert_eq!(
            Config::builder(1).app_ids([]).build().unwrap_err(),
            ConfigError::NoAppIds
        );
        let limits = Limits {
            max_depth: 2,
            ..Limits::default()
        };
        assert_eq!(
            Config::builder(1)
                .limits(limits)
                .build()
                .unwrap_err()
                .code(),
            "limit_out_of_range"
        );
        assert!(Config::builder(1)
            .decider_deadline(Duration::from_secs(2))
            .build()
            .is_err());
        let config = Config::builder(2).app_id(1).app_id(2).build().unwrap();
        assert_eq!(config.app_ids(), &[1, 2]);
        assert!(!config.authentication_on());
    }
}
