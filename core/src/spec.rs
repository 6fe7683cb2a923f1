//! The configuration as hosts write it: one serde type that every binding
//! and the gateway's `[callback]` table deserialize (in each host's own
//! case: `window_seconds`, `windowSeconds`), and [`ConfigSpec::build`], the
//! one place a [`Config`] is assembled from settings. Names, defaults and
//! error codes and messages are core's, so every language refuses a bad
//! setting the same way.

use std::time::Duration;

use serde::Deserialize;

use crate::config::{Config, ConfigError, LimitOverrides, Limits, Token, DEFAULT_WINDOW_SECONDS};
use crate::decision::FailurePolicySpec;
use crate::error::CallbackError;

/// Every setting of a [`Config`], as written by a host.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigSpec {
    /// Accepted `SdkAppid` values (at least one).
    pub app_ids: Vec<u64>,
    /// The console's callback tokens; empty: authentication off.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Seconds `RequestTime` may be from now, either way (default 60).
    #[serde(default)]
    pub window_seconds: Option<u64>,
    /// Body limits to change from their defaults.
    #[serde(default)]
    pub limits: Option<LimitOverrides>,
    /// What an item gets when its decision fails (default: reject, 38900).
    #[serde(default)]
    pub on_decider_error: Option<FailurePolicySpec>,
    /// Milliseconds deciders get for one callback (default 1500).
    #[serde(default)]
    pub decider_deadline_ms: Option<u64>,
}

impl ConfigSpec {
    /// Reads a spec from JSON (the form bindings hand over); an unknown key
    /// or a wrong type is `invalid_setting`, naming it.
    pub fn from_json(text: &str) -> Result<Self, ConfigError> {
        let mut json = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut json).map_err(|e| {
            // The host wrote a value of its language, not JSON: the setting's
            // path names the fault; a position in the text a binding made
            // would mean nothing to it.
            let mut path = e.path().to_string();
            let inner = e.into_inner();
            if inner.to_string().starts_with("unknown field") {
                // The path ends at the unknown key, which the message names:
                // the table it is in is the place.
                path = match path.rsplit_once('.') {
                    Some((table, _)) => table.to_owned(),
                    None => ".".to_owned(),
                };
            }
            let mut reason = inner.to_string();
            if inner.line() > 0 {
                if let Some((message, _)) = reason.rsplit_once(" at line ") {
                    reason = message.to_owned();
                }
            }
            ConfigError::InvalidSetting {
                reason: if path == "." {
                    reason
                } else {
                    format!("{path}: {reason}")
                },
            }
        })
    }

    /// Checks every setting and builds the configuration.
    pub fn build(self) -> Result<Config, ConfigError> {
        let mut builder = Config::builder(0)
            .app_ids(self.app_ids)
            .window_seconds(self.window_seconds.unwrap_or(DEFAULT_WINDOW_SECONDS));
        for token in self.tokens {
            builder = builder.token(Token::new(token)?);
        }
        if let Some(limits) = self.limits {
            builder = builder.limits(limits.apply(Limits::default()));
        }
        if let Some(policy) = self.on_decider_error {
            let policy = policy.build().map_err(|error| match error {
                CallbackError::InvalidResultCode { code } => {
                    ConfigError::InvalidFailureCode { code }
                }
                other => ConfigError::InvalidSetting {
                    reason: format!("on_decider_error: {other}"),
                },
            })?;
            builder = builder.on_decider_error(policy);
        }
        if let Some(millis) = self.decider_deadline_ms {
            builder = builder.decider_deadline(Duration::from_millis(millis));
        }
        builder.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_setting_is_named_without_a_json_position() {
        let error = ConfigSpec::from_json(r#"{"app_ids": [-1]}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "app_ids[0]: invalid value: integer `-1`, expected u64"
        );
        let error = ConfigSpec::from_json(r#"{"app_ids": [1], "windw": 3}"#).unwrap_err();
        assert!(
            error.to_string().starts_with("unknown field `windw`"),
            "{error}"
        );
        let error =
            ConfigSpec::from_json(r#"{"app_ids": [1], "limits": {"max_itemz": 3}}"#).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("limits: unknown field `max_itemz`"),
            "{error}"
        );
        assert!(!error.to_string().contains(" at line "), "{error}");
    }

    #[test]
    fn defaults_and_checks_are_cores() {
        let config = ConfigSpec::from_json(r#"{"app_ids": [1]}"#)
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(config.window_seconds(), DEFAULT_WINDOW_SECONDS);
        assert_eq!(
            config.decider_deadline(),
            crate::config::DEFAULT_DECIDER_DEADLINE
        );
        let refused = |json: &str| {
            ConfigSpec::from_json(json)
                .and_then(ConfigSpec::build)
                .unwrap_err()
        };
        let bad_code =
            refused(r#"{"app_ids": [1], "on_decider_error": {"policy": "reject", "code": 5}}"#);
        assert_eq!(bad_code.code(), "invalid_result_code");
        assert_eq!(
            bad_code.to_string(),
            "on_decider_error.code: result code 5 is outside [38000, 39000]"
        );
        assert_eq!(
            refused(r#"{"app_ids": [1], "tolerance_seconds": 5}"#).code(),
            "invalid_setting"
        );
        assert_eq!(refused(r#"{"app_ids": []}"#).code(), "no_app_ids");
        assert_eq!(
            refused(r#"{"app_ids": [1], "tokens": [""]}"#).code(),
            "empty_token"
        );
        assert_eq!(
            refused(r#"{"app_ids": [1], "decider_deadline_ms": 2000}"#).code(),
            "deadline_out_of_range"
        );
        assert_eq!(
            refused(r#"{"app_ids": [1], "limits": {"max_depth": 1}}"#).code(),
            "limit_out_of_range"
        );
    }
}
