//! Core's errors as the exceptions of `friendgate.errors` (defined in
//! Python so that they subclass `ValueError`, pickle, and can be caught by
//! family), through one extension trait on core's results.

use friendgate_core::{CallbackError, ConfigError};
use pyo3::prelude::*;

/// Turns core's errors into Python exceptions: `result.or_raise(py)?`.
pub trait PythonErrorExt<T> {
    /// The value, or core's error raised as its `friendgate.errors` class.
    fn or_raise(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> PythonErrorExt<T> for Result<T, CallbackError> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|error| raised(callback_error(py, &error)))
    }
}

impl<T> PythonErrorExt<T> for Result<T, ConfigError> {
    fn or_raise(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|error| {
            let class = py
                .import("friendgate.errors")
                .and_then(|m| m.getattr("ConfigurationError"));
            raised(class.and_then(|class| class.call1((error.code(), error.to_string()))))
        })
    }
}

/// The exception instance, or the error building it failed with.
fn raised(instance: PyResult<Bound<'_, PyAny>>) -> PyErr {
    match instance {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// The exception for a core error: the class of its family, carrying core's
/// code, HTTP status, platform ErrorCode and message.
fn callback_error<'py>(py: Python<'py>, error: &CallbackError) -> PyResult<Bound<'py, PyAny>> {
    let class = py
        .import("friendgate.errors")?
        .getattr("FAMILIES")?
        .get_item(error.family().as_str())?;
    class.call1((
        error.code(),
        error.http_status(),
        error.error_code(),
        error.to_string(),
    ))
}

/// Core's error catalogue as `(code, error_code, http_status, family)`
/// rows, in catalogue order (`friendgate.ERROR_CATALOGUE` wraps each row).
pub(crate) fn catalogue() -> Vec<(&'static str, u32, u16, &'static str)> {
    friendgate_core::CATALOGUE
        .iter()
        .map(|entry| {
            (
                entry.code,
                entry.error_code,
                entry.http_status,
                entry.family.as_str(),
            )
        })
        .collect()
}
