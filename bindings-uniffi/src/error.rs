//! Core's errors as the one exception Kotlin and Swift see, through one
//! extension trait on core's results.

use friendgate_core::{CallbackError as CoreError, ConfigError};

/// Why a callback or a configuration was refused: core's stable `code`, the
/// HTTP status, the platform ErrorCode and the message. Kotlin sees
/// `CallbackException.Refused`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CallbackError {
    /// The one variant: everything is in the fields.
    #[error("{reason}")]
    Refused {
        /// Core's code, e.g. `bad_signature`.
        code: String,
        /// HTTP status (0 for a configuration error).
        http_status: i32,
        /// Platform ErrorCode (0 for a configuration error).
        error_code: i32,
        /// Core's message (`message` would clash with Throwable's).
        reason: String,
    },
}

impl From<&CoreError> for CallbackError {
    fn from(error: &CoreError) -> Self {
        Self::Refused {
            code: error.code().to_owned(),
            http_status: i32::from(error.http_status()),
            error_code: i32::try_from(error.error_code()).unwrap_or(i32::MAX),
            reason: error.to_string(),
        }
    }
}

/// Turns core's errors into the exception: `result.or_refuse()?`.
pub(crate) trait UniffiErrorExt<T> {
    /// The value, or core's error as `CallbackError::Refused`.
    fn or_refuse(self) -> Result<T, CallbackError>;
}

impl<T> UniffiErrorExt<T> for Result<T, CoreError> {
    fn or_refuse(self) -> Result<T, CallbackError> {
        self.map_err(|error| CallbackError::from(&error))
    }
}

impl<T> UniffiErrorExt<T> for Result<T, ConfigError> {
    fn or_refuse(self) -> Result<T, CallbackError> {
        self.map_err(|error| CallbackError::Refused {
            code: error.code().to_owned(),
            http_status: 0,
            error_code: 0,
            reason: error.to_string(),
        })
    }
}

/// A call given an argument core refuses (a `refusal` code that names no
/// transport refusal); core's message says why. Kotlin sees
/// `ArgumentException.Invalid`, Python a `ValueError`, Node an `Error`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum ArgumentError {
    /// The one variant.
    #[error("{reason}")]
    Invalid {
        /// Core's message.
        reason: String,
    },
}

/// One row of core's error catalogue.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ErrorEntry {
    /// Stable snake_case code (`bad_signature`).
    pub code: String,
    /// Platform ErrorCode of the FAIL answer, in [38000, 39000].
    pub error_code: i32,
    /// HTTP status of the FAIL answer.
    pub http_status: i32,
    /// The family (`signature`, `body`, ...).
    pub family: String,
}

/// Every error core can refuse a callback with, in catalogue order (the
/// same rows as Python's `ERROR_CATALOGUE` and Node's `ERROR_CATALOGUE`).
#[uniffi::export]
pub fn error_catalogue() -> Vec<ErrorEntry> {
    friendgate_core::CATALOGUE
        .iter()
        .map(|entry| ErrorEntry {
            code: entry.code.to_owned(),
            error_code: i32::try_from(entry.error_code).unwrap_or(i32::MAX),
            http_status: i32::from(entry.http_status),
            family: entry.family.as_str().to_owned(),
        })
        .collect()
}
