//! `CallbackHandler`: core's `Config` plus `handle`, `verify`, and the
//! `begin`/`finish` pair the async layer awaits deciders between.

use friendgate_core::{
    authenticate_any, route_query, unix_now, verify, verify_body_for, verify_for, Config,
    ConfigError, ConfigSpec, DeciderError, Decision, FriendAdd, FriendResponse, Reply as CoreReply,
    Routed, Verified,
};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::add::to_python_add;
use crate::decision::{outcome, DeciderFailure};
use crate::error::PythonErrorExt;
use crate::request::{to_python, CallbackRequest, FriendResponseCallback};
use crate::response::{reply, Reply};

/// Bodies larger than this are parsed without holding the GIL.
const DETACH_ABOVE: usize = 64 * 1024;

/// Verifies and answers callbacks for a set of app ids and tokens.
#[pyclass(frozen, subclass, module = "friendgate._native")]
pub struct CallbackHandler {
    config: Config,
    /// Told of every failed decision (`on_decider_failure`); None: the
    /// `friendgate` logger.
    on_failure: Option<Py<PyAny>>,
}

/// A verified friend callback waiting for its decisions (see
/// `begin`/`finish`).
#[pyclass(frozen, module = "friendgate._native")]
pub struct Pending {
    callback: Verified<'static>,
    /// The Python view of the callback (`FriendResponseCallback` or
    /// `FriendAddCallback`).
    #[pyo3(get)]
    event: Py<PyAny>,
}

#[pymethods]
impl Pending {
    /// `CallbackCommand` of the callback.
    #[getter]
    fn command(&self) -> &'static str {
        self.callback.command()
    }
}

/// Which friend commands an entry point answers.
#[derive(Debug, Clone, Copy)]
enum Want {
    /// `Sns.CallbackPrevFriendResponse` (`handle`, `begin`).
    Response,
    /// `Sns.CallbackPrevFriendAdd` (`handle_add`, `begin_add`).
    Add,
    /// Either, by the query's command (`answer`, `begin_friend`).
    Either,
}

/// The request body: borrowed from a `bytes` object (the usual case), or
/// copied from `bytearray`, `memoryview` or `str`.
enum Body<'a> {
    Borrowed(&'a [u8]),
    Owned(Vec<u8>),
}

impl Body<'_> {
    fn as_slice(&self) -> &[u8] {
        match self {
            Self::Borrowed(bytes) => bytes,
            Self::Owned(bytes) => bytes,
        }
    }
}

fn body_bytes<'a>(body: &'a Bound<'_, PyAny>) -> PyResult<Body<'a>> {
    if let Ok(bytes) = body.cast::<PyBytes>() {
        return Ok(Body::Borrowed(bytes.as_bytes()));
    }
    if let Ok(text) = body.cast::<PyString>() {
        return Ok(Body::Owned(text.extract::<String>()?.into_bytes()));
    }
    body.extract::<Vec<u8>>().map(Body::Owned).map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err("body must be bytes, bytearray, memoryview or str")
    })
}

impl CallbackHandler {
    /// Core's `verify` for the friend command(s) `want`, without the GIL
    /// for large bodies.
    fn verify_want<'a>(
        &self,
        py: Python<'_>,
        want: Want,
        query: &'a str,
        body: &'a [u8],
        now: u64,
    ) -> Result<Verified<'a>, friendgate_core::CallbackError> {
        let config = &self.config;
        let run = || match want {
            Want::Response => verify(config, query, body, now).map(Verified::from),
            Want::Add => verify_for::<FriendAdd>(config, query, body, now).map(Verified::from),
            Want::Either => match route_query(config, query, now)? {
                Routed::FriendAdd(query) => {
                    verify_body_for::<FriendAdd>(config, query, body).map(Verified::from)
                }
                Routed::FriendResponse(query) => {
                    verify_body_for::<FriendResponse>(config, query, body).map(Verified::from)
                }
                // Core's unexpected_command, worded by core.
                _ => verify(config, query, body, now).map(Verified::from),
            },
        };
        if body.len() > DETACH_ABOVE {
            py.detach(run)
        } else {
            run()
        }
    }

    /// The Python view of `callback` and its items.
    fn event<'py>(
        py: Python<'py>,
        callback: &Verified<'_>,
    ) -> PyResult<(Py<PyAny>, Bound<'py, pyo3::types::PyTuple>)> {
        Ok(match callback {
            Verified::Add(callback) => {
                let event = to_python_add(py, callback)?;
                let items = event.get().items_tuple(py);
                (event.into_any(), items)
            }
            Verified::Response(callback) => {
                let event = to_python(py, callback)?;
                let items = event.get().items_tuple(py);
                (event.into_any(), items)
            }
            _ => (py.None(), pyo3::types::PyTuple::empty(py)),
        })
    }

    /// Verifies, asks `decide` (or, for a friend request, `decide_add`)
    /// about each item in order, and answers.
    #[allow(clippy::too_many_arguments)]
    fn decide_sync(
        &self,
        py: Python<'_>,
        want: Want,
        query: &str,
        body: &Bound<'_, PyAny>,
        decide: Option<Bound<'_, PyAny>>,
        decide_add: Option<Bound<'_, PyAny>>,
        now: Option<u64>,
    ) -> PyResult<Reply> {
        let body = body_bytes(body)?;
        let now = now.unwrap_or_else(unix_now);
        let callback = match self.verify_want(py, want, query, body.as_slice(), now) {
            Ok(callback) => callback,
            Err(error) => return Ok(reply(py, CoreReply::from_error(error))),
        };
        let decide = match &callback {
            Verified::Add(_) => decide_add,
            _ => decide,
        };
        let outcomes: Vec<Result<Decision, DeciderError>> = match decide {
            None => vec![Ok(Decision::Allow); callback.len()],
            Some(decide) => {
                let (event, items) = Self::event(py, &callback)?;
                items
                    .iter()
                    .map(|item| match decide.call1((event.bind(py), item)) {
                        Ok(value) => Ok(outcome(&value)),
                        // An Exception is a failed decision; KeyboardInterrupt,
                        // SystemExit and the like stop the handler.
                        Err(err) if err.is_instance_of::<PyException>(py) => {
                            Ok(outcome(err.value(py).as_any()))
                        }
                        Err(err) => Err(err),
                    })
                    .collect::<PyResult<_>>()?
            }
        };
        self.report_failures(py, &callback, &outcomes);
        Ok(reply(py, callback.respond(&self.config, outcomes)))
    }

    /// The typed event of a verified callback, or the refusal raised.
    fn verify_typed(
        &self,
        py: Python<'_>,
        want: Want,
        query: &str,
        body: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        let body = body_bytes(body)?;
        let now = now.unwrap_or_else(unix_now);
        let callback = self
            .verify_want(py, want, query, body.as_slice(), now)
            .or_raise(py)?;
        Ok(Self::event(py, &callback)?.0)
    }

    /// First half of the async path for `want`: a `Pending` or the refusal.
    fn begin_want(
        &self,
        py: Python<'_>,
        want: Want,
        query: &str,
        body: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        let body = body_bytes(body)?;
        let now = now.unwrap_or_else(unix_now);
        match self.verify_want(py, want, query, body.as_slice(), now) {
            Ok(callback) => {
                let callback = callback.into_owned();
                let (event, _) = Self::event(py, &callback)?;
                Ok(Py::new(py, Pending { callback, event })?.into_any())
            }
            Err(error) => Ok(Py::new(py, reply(py, CoreReply::from_error(error)))?.into_any()),
        }
    }
}

#[pymethods]
impl CallbackHandler {
    /// The settings are core's `ConfigSpec`, read from one dict of them (as
    /// Node reads one options object, Kotlin one `HandlerConfig`);
    /// `on_decider_failure` is a host hook, not a setting of core's.
    #[new]
    #[pyo3(signature = (app_ids, tokens = None, window_seconds = None, limits = None, on_decider_error = None, decider_deadline_ms = None, on_decider_failure = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        app_ids: Bound<'_, PyAny>,
        tokens: Option<Bound<'_, PyAny>>,
        window_seconds: Option<Bound<'_, PyAny>>,
        limits: Option<Bound<'_, PyAny>>,
        on_decider_error: Option<Bound<'_, PyAny>>,
        decider_deadline_ms: Option<Bound<'_, PyAny>>,
        on_decider_failure: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let settings = PyDict::new(py);
        settings.set_item(
            "app_ids",
            py.import("builtins")?.getattr("list")?.call1((app_ids,))?,
        )?;
        if let Some(tokens) = tokens {
            settings.set_item(
                "tokens",
                py.import("builtins")?.getattr("list")?.call1((tokens,))?,
            )?;
        }
        for (key, value) in [
            ("window_seconds", window_seconds),
            ("limits", limits),
            ("on_decider_error", on_decider_error),
            ("decider_deadline_ms", decider_deadline_ms),
        ] {
            if let Some(value) = value {
                settings.set_item(key, value)?;
            }
        }
        let text: String = py
            .import("json")?
            .call_method1("dumps", (&settings,))?
            .extract()?;
        let spec = ConfigSpec::from_json(&text).or_raise(py)?;
        let config = spec.build().or_raise(py)?;
        if on_decider_failure
            .as_ref()
            .is_some_and(|hook| !hook.bind(py).is_callable())
        {
            return Err(ConfigError::InvalidSetting {
                reason: "on_decider_failure must be callable".to_owned(),
            })
            .or_raise(py);
        }
        Ok(Self {
            config,
            on_failure: on_decider_failure,
        })
    }

    /// Milliseconds deciders get for one callback (core's default 1500).
    #[getter]
    fn decider_deadline_ms(&self) -> u64 {
        u64::try_from(self.config.decider_deadline().as_millis()).unwrap_or(u64::MAX)
    }

    /// Verifies and answers one friend response; `decide(event, item)`
    /// returns `Allow()` or `Reject(code, info)` (None: allow everything).
    #[pyo3(signature = (query, body, decide = None, *, now = None))]
    fn handle(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        decide: Option<Bound<'_, PyAny>>,
        now: Option<u64>,
    ) -> PyResult<Reply> {
        self.decide_sync(py, Want::Response, query, body, decide, None, now)
    }

    /// `handle` for a friend request (`Sns.CallbackPrevFriendAdd`):
    /// `decide(event, item)` gets a `FriendAddCallback` and an `AddItem`.
    #[pyo3(signature = (query, body, decide = None, *, now = None))]
    fn handle_add(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        decide: Option<Bound<'_, PyAny>>,
        now: Option<u64>,
    ) -> PyResult<Reply> {
        self.decide_sync(py, Want::Add, query, body, None, decide, now)
    }

    /// Answers either friend callback at the one URL, by its command: a
    /// friend response with `decide`, a friend request with `decide_add`
    /// (None: allow everything).
    #[pyo3(signature = (query, body, decide = None, decide_add = None, *, now = None))]
    fn answer(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        decide: Option<Bound<'_, PyAny>>,
        decide_add: Option<Bound<'_, PyAny>>,
        now: Option<u64>,
    ) -> PyResult<Reply> {
        self.decide_sync(py, Want::Either, query, body, decide, decide_add, now)
    }

    /// Verifies a friend response and returns it, typed; raises a
    /// `CallbackError` subclass when it is refused.
    #[pyo3(signature = (query, body, *, now = None))]
    fn verify(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        self.verify_typed(py, Want::Response, query, body, now)
    }

    /// `verify` for a friend request: a `FriendAddCallback`.
    #[pyo3(signature = (query, body, *, now = None))]
    fn verify_add(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        self.verify_typed(py, Want::Add, query, body, now)
    }

    /// Authenticates the query of a callback of any command (app id, Sign,
    /// window) and returns it typed; raises a `CallbackError` subclass when
    /// it is refused. For the app's own handlers of its other callbacks.
    #[pyo3(signature = (query, *, now = None))]
    fn authenticate(
        &self,
        py: Python<'_>,
        query: &str,
        now: Option<u64>,
    ) -> PyResult<CallbackRequest> {
        let query =
            authenticate_any(&self.config, query, now.unwrap_or_else(unix_now)).or_raise(py)?;
        Ok(query.view().into())
    }

    /// Where a request on the one callback URL goes: None for a friend
    /// callback friendgate decides (a response or a request: answer it with
    /// `answer`), a `CallbackRequest` for an authenticated callback of
    /// another command, or the `Reply` refusing it.
    #[pyo3(signature = (query, *, now = None))]
    fn route(&self, py: Python<'_>, query: &str, now: Option<u64>) -> PyResult<Option<Py<PyAny>>> {
        Ok(
            match route_query(&self.config, query, now.unwrap_or_else(unix_now)) {
                Ok(Routed::Other(other)) => {
                    Some(Py::new(py, CallbackRequest::from(other.view()))?.into_any())
                }
                Ok(_) => None,
                Err(error) => {
                    Some(Py::new(py, reply(py, CoreReply::from_error(error)))?.into_any())
                }
            },
        )
    }

    /// First half of the async flow for a friend response: a `Pending` to
    /// decide, or the `Reply` refusing the callback.
    #[pyo3(signature = (query, body, now = None))]
    fn begin(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        self.begin_want(py, Want::Response, query, body, now)
    }

    /// `begin` for a friend request.
    #[pyo3(signature = (query, body, now = None))]
    fn begin_add(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        self.begin_want(py, Want::Add, query, body, now)
    }

    /// `begin` for either friend callback, by the query's command
    /// (`Pending.command` says which).
    #[pyo3(signature = (query, body, now = None))]
    fn begin_friend(
        &self,
        py: Python<'_>,
        query: &str,
        body: &Bound<'_, PyAny>,
        now: Option<u64>,
    ) -> PyResult<Py<PyAny>> {
        self.begin_want(py, Want::Either, query, body, now)
    }

    /// Second half: one outcome per item (`Allow`, `Reject`, an exception,
    /// or None for "no decision"), answered with core's failure policy.
    fn finish(
        &self,
        py: Python<'_>,
        pending: PyRef<'_, Pending>,
        outcomes: Vec<Bound<'_, PyAny>>,
    ) -> Reply {
        let outcomes: Vec<_> = outcomes.iter().map(outcome).collect();
        self.report_failures(py, &pending.callback, &outcomes);
        reply(py, pending.callback.respond(&self.config, outcomes))
    }
}

impl CallbackHandler {
    /// Tells `on_decider_failure` of each failed decision (an exception, a
    /// wrong value, a missed deadline) as a `DeciderFailure` row, or, without
    /// a hook, logs its report on Python's `logging` logger `friendgate`; the
    /// failure policy answers the item either way. A hook that raises costs
    /// the callback nothing (its exception is logged). Nothing secret is in
    /// these rows.
    fn report_failures(
        &self,
        py: Python<'_>,
        callback: &Verified<'_>,
        outcomes: &[Result<Decision, DeciderError>],
    ) {
        let failed = callback.failures(outcomes);
        if failed.is_empty() {
            return;
        }
        let logger = || {
            py.import("logging")
                .and_then(|logging| logging.call_method1("getLogger", ("friendgate",)))
        };
        for failure in failed {
            let told = match &self.on_failure {
                None => logger()
                    .and_then(|logger| logger.call_method1("warning", ("%s", &failure.report))),
                Some(hook) => hook.bind(py).call1((DeciderFailure::from(failure),)),
            };
            if let Err(error) = told {
                // Nowhere to report a failing logger to; a failing hook is
                // logged, once per failure.
                if let Ok(logger) = logger() {
                    let _ = logger.call_method1(
                        "warning",
                        ("on_decider_failure raised: %s", error.value(py)),
                    );
                }
            }
        }
    }
}

impl FriendResponseCallback {
    /// The items tuple, bound.
    pub fn items_tuple<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyTuple> {
        self.items_ref().bind(py).clone()
    }
}
