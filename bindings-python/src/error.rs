//! Core's errors as the exceptions of `friendgate.errors` (defined in
//! Python so that they subclass `ValueError`, pickle, and can be caught by
//! family).

use friendgate_core::{CallbackError, ConfigError};
use pyo3::prelude::*;

/// The exception for a core error: the class of its family, carrying core's
/// code, HTTP status, platform ErrorCode and message.
pub fn callback_error(py: Python<'_>, error: &CallbackError) -> PyErr {
    match build(py, error) {
        Ok(err) => err,
        Err(err) => err,
    }
}

fn build(py: Python<'_>, error: &CallbackError) -> PyResult<PyErr> {
    let errors = py.import("friendgate.errors")?;
    let class = errors
        .getattr("FAMILIES")?
        .get_item(error.family().as_str())?;
    let instance = class.call1((
        error.code(),
        error.http_status(),
        error.error_code(),
        error.to_string(),
    ))?;
    Ok(PyErr::from_value(instance))
}

/// A configuration core refuses, as `friendgate.errors.ConfigurationError`.
pub fn config_error(py: Python<'_>, code: &str, message: String) -> PyErr {
    let raised = py
        .import("friendgate.errors")
        .and_then(|m| m.getattr("ConfigurationError"))
        .and_then(|class| class.call1((code, message)));
    match raised {
        Ok(instance) => PyErr::from_value(instance),
        Err(err) => err,
    }
}

/// [`config_error`] for a [`ConfigError`].
pub fn from_config(py: Python<'_>, error: &ConfigError) -> PyErr {
    config_error(py, error.code(), error.to_string())
}
