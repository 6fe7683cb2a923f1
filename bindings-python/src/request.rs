//! The verified callback and its items, as read-only Python objects.

use std::borrow::Cow;

use friendgate_core::FriendResponseCallback as CoreCallback;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

/// One friend request being answered.
#[pyclass(frozen, module = "friendgate._native")]
pub struct ResponseItem {
    /// Position in `ResponseFriendItem`.
    #[pyo3(get)]
    index: usize,
    /// `To_Account`, `Remark`, `TagName`.
    text: Texts<3>,
    /// `ResponseAction` as sent (`Response_Action_AgreeAndAdd`, ...).
    #[pyo3(get)]
    action: Cow<'static, str>,
    /// Whether the action is one of the documented three.
    #[pyo3(get)]
    action_known: bool,
    /// Whether the user accepts (`AgreeAndAdd` or `Agree`).
    #[pyo3(get)]
    is_accept: bool,
}

#[pymethods]
impl ResponseItem {
    /// `To_Account`: who sent the friend request.
    #[getter]
    fn to_account(&self) -> &str {
        self.text.get(0)
    }

    /// `Remark` (empty when absent).
    #[getter]
    fn remark(&self) -> &str {
        self.text.get(1)
    }

    /// `TagName` (empty when absent).
    #[getter]
    fn tag_name(&self) -> &str {
        self.text.get(2)
    }

    fn __repr__(&self) -> String {
        format!(
            "ResponseItem(index={}, to_account={}, action={})",
            self.index,
            py_str(self.text.get(0)),
            py_str(&self.action)
        )
    }
}

/// A verified `Sns.CallbackPrevFriendResponse` callback.
#[pyclass(frozen, module = "friendgate._native")]
pub struct FriendResponseCallback {
    /// `SdkAppid`.
    #[pyo3(get)]
    sdk_app_id: u64,
    /// `OptPlatform`, canonical spelling (`iOS`, `Mac`, ...), or as sent when unknown; None when absent.
    #[pyo3(get)]
    platform: Option<Cow<'static, str>>,
    /// Whether the platform is one of the documented ones.
    #[pyo3(get)]
    platform_known: bool,
    /// `Requester_Account`, `From_Account`, `ClientIP` (see `has_client_ip`).
    text: Texts<3>,
    has_client_ip: bool,
    /// `RequestTime` (Unix seconds), when signed.
    #[pyo3(get)]
    request_time: Option<u64>,
    /// `EventTime` in Unix milliseconds.
    #[pyo3(get)]
    event_time_ms: u64,
    /// The items, in order.
    #[pyo3(get)]
    items: Py<PyTuple>,
}

impl FriendResponseCallback {
    /// The items tuple.
    pub fn items_ref(&self) -> &Py<PyTuple> {
        &self.items
    }
}

#[pymethods]
impl FriendResponseCallback {
    /// `Requester_Account`.
    #[getter]
    fn requester_account(&self) -> &str {
        self.text.get(0)
    }

    /// `From_Account`: who is responding.
    #[getter(from_account)]
    fn responder(&self) -> &str {
        self.text.get(1)
    }

    /// `ClientIP` as sent; None when absent.
    #[getter]
    fn client_ip(&self) -> Option<&str> {
        self.has_client_ip.then(|| self.text.get(2))
    }

    /// `EventTime` as an aware UTC datetime.
    #[getter]
    fn event_time<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let datetime = py.import("datetime")?;
        let utc = datetime.getattr("timezone")?.getattr("utc")?;
        let seconds = self.event_time_ms as f64 / 1000.0;
        datetime
            .getattr("datetime")?
            .call_method1("fromtimestamp", (seconds, utc))
    }

    fn __repr__(&self) -> String {
        format!(
            "FriendResponseCallback(sdk_app_id={}, from_account={}, platform={}, items={})",
            self.sdk_app_id,
            py_str(self.text.get(1)),
            self.platform.as_deref().map_or("None".to_owned(), py_str),
            Python::attach(|py| self.items.bind(py).len())
        )
    }
}

/// `N` strings in one allocation (a Python `decide` runs per item, so each
/// allocation saved is measurable).
pub(crate) struct Texts<const N: usize> {
    buf: String,
    ends: [usize; N],
}

impl<const N: usize> Texts<N> {
    pub(crate) fn new(parts: [&str; N]) -> Self {
        let mut buf = String::with_capacity(parts.iter().map(|p| p.len()).sum());
        let mut ends = [0; N];
        for (end, part) in ends.iter_mut().zip(parts) {
            buf.push_str(part);
            *end = buf.len();
        }
        Self { buf, ends }
    }

    pub(crate) fn get(&self, index: usize) -> &str {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        self.buf.get(start..self.ends[index]).unwrap_or("")
    }
}

/// The documented actions and platforms are fixed strings: no allocation.
pub(crate) fn static_or_owned(known: bool, text: &str) -> Cow<'static, str> {
    const KNOWN: [&str; 11] = [
        "Response_Action_AgreeAndAdd",
        "Response_Action_Agree",
        "Response_Action_Reject",
        "RESTAPI",
        "Web",
        "Android",
        "iOS",
        "Windows",
        "Mac",
        "iPad",
        "Unknown",
    ];
    match KNOWN.iter().find(|k| known && **k == text) {
        Some(k) => Cow::Borrowed(k),
        None => Cow::Owned(text.to_owned()),
    }
}

/// A string as Python's `repr` would show it (single quotes).
pub fn py_str(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// The Python objects for core's view of a callback.
pub fn to_python(
    py: Python<'_>,
    callback: &CoreCallback<'_>,
) -> PyResult<Py<FriendResponseCallback>> {
    let view = callback.view();
    let items = view
        .items
        .iter()
        .map(|item| {
            Py::new(
                py,
                ResponseItem {
                    index: item.index,
                    text: Texts::new([&item.to_account, &item.remark, &item.tag_name]),
                    action: static_or_owned(item.action_known, &item.action),
                    action_known: item.action_known,
                    is_accept: item.is_accept,
                },
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    Py::new(
        py,
        FriendResponseCallback {
            sdk_app_id: view.sdk_app_id,
            platform: view
                .platform
                .as_deref()
                .map(|p| static_or_owned(view.platform_known, p)),
            platform_known: view.platform_known,
            text: Texts::new([
                &view.requester_account,
                &view.from_account,
                view.client_ip.as_deref().unwrap_or(""),
            ]),
            has_client_ip: view.client_ip.is_some(),
            request_time: view.request_time,
            event_time_ms: view.event_time_ms,
            items: PyTuple::new(py, items)?.unbind(),
        },
    )
}

/// An authenticated callback of any command (the app's one callback URL
/// receives them all): what a handler for another callback gets.
#[pyclass(frozen, module = "friendgate._native")]
pub struct CallbackRequest {
    /// `CallbackCommand` as sent.
    #[pyo3(get)]
    command: String,
    /// Whether the Chat documentation lists the command.
    #[pyo3(get)]
    command_known: bool,
    /// `SdkAppid`.
    #[pyo3(get)]
    sdk_app_id: u64,
    /// `OptPlatform`, canonical spelling, or as sent; None when absent.
    #[pyo3(get)]
    platform: Option<String>,
    /// Whether the platform is one of the documented ones.
    #[pyo3(get)]
    platform_known: bool,
    /// `ClientIP` as sent; None when absent.
    #[pyo3(get)]
    client_ip: Option<String>,
    /// `RequestTime` (Unix seconds), when signed.
    #[pyo3(get)]
    request_time: Option<u64>,
}

#[pymethods]
impl CallbackRequest {
    fn __repr__(&self) -> String {
        format!(
            "CallbackRequest(command={}, sdk_app_id={})",
            py_str(&self.command),
            self.sdk_app_id
        )
    }
}

impl From<friendgate_core::RequestView<'_>> for CallbackRequest {
    fn from(view: friendgate_core::RequestView<'_>) -> Self {
        Self {
            command: view.command.into_owned(),
            command_known: view.command_known,
            sdk_app_id: view.sdk_app_id,
            platform: view.platform.map(Cow::into_owned),
            platform_known: view.platform_known,
            client_ip: view.client_ip.map(Cow::into_owned),
            request_time: view.request_time,
        }
    }
}

/// `text` with every `Sign=` query value replaced by `<redacted>` (core's
/// `redact_sign`): for log lines that carry a callback URL.
#[pyfunction]
pub fn redact_sign(text: &str) -> String {
    friendgate_core::sign::redact_sign(text).into_owned()
}
