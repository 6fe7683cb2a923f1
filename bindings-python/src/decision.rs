//! `Allow` and `Reject`: the decisions a Python `decide` returns.

use friendgate_core::{DeciderError, Decision, Returned};
use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;

use crate::error::PythonErrorExt;

/// Let the friend response through (ResultCode 0).
#[pyclass(frozen, eq, module = "friendgate._native")]
#[derive(PartialEq, Eq)]
pub struct Allow;

#[pymethods]
impl Allow {
    #[new]
    fn new() -> Self {
        Self
    }

    fn __repr__(&self) -> &'static str {
        "Allow()"
    }
}

/// Do not let it through: `code` in [38000, 39000] (checked now; anything
/// else raises `DecisionError`), `info` the reason sent to the platform.
#[pyclass(frozen, eq, module = "friendgate._native")]
#[derive(PartialEq, Eq)]
pub struct Reject {
    decision: Decision,
}

#[pymethods]
impl Reject {
    #[new]
    #[pyo3(signature = (code, info = String::new()))]
    fn new(py: Python<'_>, code: i64, info: String) -> PyResult<Self> {
        let decision = Decision::reject(code, info).or_raise(py)?;
        Ok(Self { decision })
    }

    /// The ResultCode.
    #[getter]
    fn code(&self) -> u32 {
        self.decision.result_code()
    }

    /// The ResultInfo.
    #[getter]
    fn info(&self) -> &str {
        self.decision.info()
    }

    fn __repr__(&self) -> String {
        format!(
            "Reject({}, {})",
            self.decision.result_code(),
            crate::request::py_str(self.decision.info())
        )
    }

    fn __reduce__(&self, py: Python<'_>) -> PyResult<(Py<PyAny>, (u32, String))> {
        let class = py.get_type::<Reject>().into_any().unbind();
        Ok((
            class,
            (self.decision.result_code(), self.decision.info().to_owned()),
        ))
    }
}

/// What a Python decider produced for one item, as core's outcome (core
/// words every wrong value): `Allow` or `Reject`; an exception is a failure
/// (a `TimeoutError` is a missed deadline); a coroutine from the synchronous
/// `handle` and any other value are failures that say what came back.
pub fn outcome(value: &Bound<'_, PyAny>) -> Result<Decision, DeciderError> {
    if value.is_instance_of::<Allow>() {
        return Ok(Decision::Allow);
    }
    if let Ok(reject) = value.extract::<PyRef<'_, Reject>>() {
        return Ok(reject.decision.clone());
    }
    if value.is_instance_of::<PyTimeoutError>() {
        return Returned::Late.outcome();
    }
    if value.is_instance_of::<pyo3::exceptions::PyBaseException>() {
        let message = value.str().map(|s| s.to_string()).unwrap_or_default();
        return Returned::Raised(&message).outcome();
    }
    if value.is_none() {
        return Returned::Nothing.outcome();
    }
    let kind = value
        .get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default();
    if value.hasattr("__await__").unwrap_or(false) {
        // Closed, so that Python does not also warn "never awaited".
        let _ = value.call_method0("close");
        return Returned::Pending(&kind).outcome();
    }
    Returned::Other(&kind).outcome()
}

/// A failed decision, as every binding reports it: the item's index and
/// `To_Account`, core's reason, and core's one-line report.
#[pyclass(frozen, get_all, module = "friendgate._native")]
pub struct DeciderFailure {
    /// The item's position in the callback.
    pub(crate) index: usize,
    /// The item's `To_Account`.
    pub(crate) to_account: String,
    /// Why its decision failed (core's message).
    pub(crate) reason: String,
    /// Core's line naming the item and the reason.
    pub(crate) report: String,
}

#[pymethods]
impl DeciderFailure {
    fn __repr__(&self) -> String {
        format!(
            "DeciderFailure(index={}, to_account={:?}, reason={:?})",
            self.index, self.to_account, self.reason
        )
    }
}

impl From<friendgate_core::FailedDecision> for DeciderFailure {
    fn from(failure: friendgate_core::FailedDecision) -> Self {
        Self {
            index: failure.index,
            to_account: failure.to_account,
            reason: failure.reason,
            report: failure.report,
        }
    }
}
