//! The verified friend request (`Sns.CallbackPrevFriendAdd`) and its items,
//! as read-only Python objects: core's `AddCallbackView` with Python names.

use std::borrow::Cow;

use friendgate_core::FriendAddCallback as CoreAddCallback;
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::request::{py_str, static_or_owned, Texts};

/// One `FriendItem`: an account `from_account` asks to add.
#[pyclass(frozen, module = "friendgate._native")]
pub struct AddItem {
    /// Position in `FriendItem`.
    #[pyo3(get)]
    index: usize,
    /// `To_Account`, `Remark`, `GroupName`, `AddSource`, `AddWording`.
    text: Texts<5>,
}

#[pymethods]
impl AddItem {
    /// `To_Account`: the account asked.
    #[getter]
    fn to_account(&self) -> &str {
        self.text.get(0)
    }

    /// `Remark` (empty when absent).
    #[getter]
    fn remark(&self) -> &str {
        self.text.get(1)
    }

    /// `GroupName` (empty when absent).
    #[getter]
    fn group_name(&self) -> &str {
        self.text.get(2)
    }

    /// `AddSource` as sent (empty when absent).
    #[getter]
    fn add_source(&self) -> &str {
        self.text.get(3)
    }

    /// `AddWording`: the request's message (empty when absent).
    #[getter]
    fn add_wording(&self) -> &str {
        self.text.get(4)
    }

    fn __repr__(&self) -> String {
        format!(
            "AddItem(index={}, to_account={}, add_wording={})",
            self.index,
            py_str(self.text.get(0)),
            py_str(self.text.get(4))
        )
    }
}

/// A verified friend request: what a friend-request decider sees.
#[pyclass(frozen, module = "friendgate._native")]
pub struct FriendAddCallback {
    /// `SdkAppid`.
    #[pyo3(get)]
    sdk_app_id: u64,
    /// `OptPlatform` (canonical spelling, or as sent); None when absent.
    #[pyo3(get)]
    platform: Option<Cow<'static, str>>,
    /// Whether the platform is one of the documented ones.
    #[pyo3(get)]
    platform_known: bool,
    /// `Requester_Account`, `From_Account`, `ClientIP`, `AddType`.
    text: Texts<4>,
    has_client_ip: bool,
    /// Whether `add_type` is one of the documented two.
    #[pyo3(get)]
    add_type_known: bool,
    /// `ForceAddFlags` (0 when absent).
    #[pyo3(get)]
    force_add_flags: u64,
    /// `RequestTime` (Unix seconds), when signed.
    #[pyo3(get)]
    request_time: Option<u64>,
    /// `EventTime`, Unix milliseconds (0 when absent).
    #[pyo3(get)]
    event_time_ms: u64,
    /// The items (`AddItem`), in order.
    #[pyo3(get)]
    items: Py<PyTuple>,
}

#[pymethods]
impl FriendAddCallback {
    /// `Requester_Account`: who initiated the request.
    #[getter]
    fn requester_account(&self) -> &str {
        self.text.get(0)
    }

    /// `From_Account`: who asks to add friends.
    #[getter(from_account)]
    fn asker(&self) -> &str {
        self.text.get(1)
    }

    /// `ClientIP` as sent; None when absent.
    #[getter]
    fn client_ip(&self) -> Option<&str> {
        self.has_client_ip.then(|| self.text.get(2))
    }

    /// `AddType` as sent (`Add_Type_Single`, `Add_Type_Both`, a later value,
    /// or empty when absent).
    #[getter]
    fn add_type(&self) -> &str {
        self.text.get(3)
    }

    /// `EventTime` as an aware UTC `datetime`.
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
            "FriendAddCallback(sdk_app_id={}, from_account={}, add_type={}, items={})",
            self.sdk_app_id,
            py_str(self.text.get(1)),
            py_str(self.text.get(3)),
            Python::attach(|py| self.items.bind(py).len())
        )
    }
}

impl FriendAddCallback {
    /// The items tuple, bound.
    pub fn items_tuple<'py>(&self, py: Python<'py>) -> Bound<'py, PyTuple> {
        self.items.bind(py).clone()
    }
}

/// The Python object of a verified friend request.
pub fn to_python_add(
    py: Python<'_>,
    callback: &CoreAddCallback<'_>,
) -> PyResult<Py<FriendAddCallback>> {
    let view = callback.view();
    let items = view
        .items
        .iter()
        .map(|item| {
            Py::new(
                py,
                AddItem {
                    index: item.index,
                    text: Texts::new([
                        &item.to_account,
                        &item.remark,
                        &item.group_name,
                        &item.add_source,
                        &item.add_wording,
                    ]),
                },
            )
        })
        .collect::<PyResult<Vec<_>>>()?;
    Py::new(
        py,
        FriendAddCallback {
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
                &view.add_type,
            ]),
            has_client_ip: view.client_ip.is_some(),
            add_type_known: view.add_type_known,
            force_add_flags: view.force_add_flags,
            request_time: view.request_time,
            event_time_ms: view.event_time_ms,
            items: PyTuple::new(py, items)?.unbind(),
        },
    )
}
