//! `Reply` (what to send back) and `Response` (an answer built by hand).

use friendgate_core::{
    Decision, Reply as CoreReply, Response as CoreResponse, ResultCode, ResultItem,
};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};

use crate::error::PythonErrorExt;

/// An HTTP answer: `status`, `headers`, and `body` (core's exact bytes).
#[pyclass(frozen, module = "friendgate._native")]
pub struct Reply {
    /// HTTP status.
    #[pyo3(get)]
    status: u16,
    /// `application/json`.
    #[pyo3(get)]
    content_type: &'static str,
    /// The JSON answer.
    #[pyo3(get)]
    body: Py<PyBytes>,
    /// Core's error code when the answer is `FAIL`, else None.
    #[pyo3(get)]
    error_code: Option<&'static str>,
    /// The error message when the answer is `FAIL`, else None.
    #[pyo3(get)]
    error_message: Option<String>,
}

#[pymethods]
impl Reply {
    /// `{"Content-Type": "application/json"}`, plus `Allow: POST` on a 405
    /// (core's `reply_headers`).
    #[getter]
    fn headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let headers = PyDict::new(py);
        for (name, value) in friendgate_core::reply_headers(self.status) {
            headers.set_item(*name, *value)?;
        }
        Ok(headers)
    }

    /// Whether the answer is `OK` (HTTP 200).
    #[getter]
    fn ok(&self) -> bool {
        self.status == 200
    }

    fn __repr__(&self) -> String {
        format!(
            "Reply(status={}, error_code={:?})",
            self.status, self.error_code
        )
    }
}

/// The Python view of a core reply.
pub fn reply(py: Python<'_>, reply: CoreReply) -> Reply {
    Reply {
        status: reply.status,
        content_type: reply.content_type,
        body: PyBytes::new(py, &reply.body).unbind(),
        error_code: reply.error.as_ref().map(|e| e.code()),
        error_message: reply.error.as_ref().map(ToString::to_string),
    }
}

/// The FAIL reply an HTTP host sends around `handle`: `method_not_allowed`
/// (detail: the method), `request_timeout` (detail: the deadline in ms),
/// `overloaded`, or `body_incomplete` (detail: what the server said).
#[pyfunction]
#[pyo3(signature = (code, detail = String::new()))]
pub fn refusal(py: Python<'_>, code: &str, detail: String) -> PyResult<Reply> {
    let error = friendgate_core::CallbackError::transport_refusal(code, &detail)
        .map_err(pyo3::exceptions::PyValueError::new_err)?;
    Ok(reply(py, CoreReply::from_error(error)))
}

/// Core's 200 "processed, go on" reply for a callback of another command
/// that nobody decides (`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`).
#[pyfunction]
pub fn processed(py: Python<'_>) -> Reply {
    reply(py, CoreReply::processed())
}

/// An answer built by hand: `Response.allow_all(["id1", "id2"]).reject("id2",
/// 38001, "spam").to_bytes()`, or `Response.fail(38500, "maintenance")`.
#[pyclass(module = "friendgate._native")]
pub struct Response {
    inner: CoreResponse<'static>,
}

#[pymethods]
impl Response {
    /// An `OK` answer allowing every account, in order.
    #[staticmethod]
    fn allow_all(to_accounts: Vec<String>) -> Self {
        Self {
            inner: CoreResponse::allow_all(to_accounts),
        }
    }

    /// A `FAIL` answer with `code` in [38000, 39000].
    #[staticmethod]
    fn fail(py: Python<'_>, code: i64, info: String) -> PyResult<Self> {
        let code = ResultCode::new(code).or_raise(py)?;
        Ok(Self {
            inner: CoreResponse::fail(code, info),
        })
    }

    /// Rejects every item for `to_account`; returns the response for chaining.
    fn reject<'py>(
        slf: Bound<'py, Self>,
        to_account: &str,
        code: i64,
        info: &str,
    ) -> PyResult<Bound<'py, Self>> {
        let py = slf.py();
        let code = ResultCode::new(code).or_raise(py)?;
        {
            let mut this = slf.borrow_mut();
            let inner = std::mem::replace(&mut this.inner, CoreResponse::ok());
            this.inner = inner.reject_account(to_account, code, info);
        }
        Ok(slf)
    }

    /// Appends an item for `to_account` with a decision (`Allow()` or `Reject(...)`).
    fn push(&mut self, to_account: String, decision: &Bound<'_, PyAny>) -> PyResult<()> {
        let decision: Decision = crate::decision::outcome(decision)
            .map_err(|e| pyo3::exceptions::PyTypeError::new_err(e.to_string()))?;
        self.inner.push(ResultItem::new(to_account, decision));
        Ok(())
    }

    /// The JSON answer (core's bytes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.inner.to_bytes())
    }
}
