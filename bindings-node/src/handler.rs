//! `NativeHandler`: core's `Config` and the `begin`/`finish` pair the
//! JavaScript layer decides between, with the verified callbacks kept in
//! slots meanwhile.

use std::sync::{Arc, Mutex};

use friendgate_core::{
    authenticate_any, route_query, unix_now, verify, verify_body_for, verify_for, CallbackError,
    Config, ConfigSpec, FriendAdd, FriendResponse, Reply as CoreReply, Routed, Verified,
};
use napi::bindgen_prelude::{AsyncTask, Int32Array};
use napi::{Env, Task};
use napi_derive::napi;

use crate::decision::outcomes;
use crate::error::{refusal_text, NapiErrorExt};
use crate::request::{add_event_wire, event_wire, request_text};

/// The request's own query and body, which the parsed callback borrows.
struct Request {
    query: String,
    body: Vec<u8>,
}

/// A verified friend callback of either command, borrowing its request.
type Borrowed<'a> = Verified<'a>;

/// The event as the JavaScript layer reads it, at `slot`.
fn wire(callback: &Verified<'_>, slot: u32) -> String {
    match callback {
        Verified::Add(callback) => add_event_wire(slot, &callback.view()),
        Verified::Response(callback) => event_wire(slot, &callback.view()),
        _ => String::new(),
    }
}

/// Which friend commands `begin` answers: a friend response (0), a friend
/// request (1), or either by the query's command (2).
fn verified<'a>(
    config: &Config,
    want: u32,
    query: &'a str,
    body: &'a [u8],
    now: u64,
) -> Result<Borrowed<'a>, CallbackError> {
    match want {
        1 => verify_for::<FriendAdd>(config, query, body, now).map(Verified::Add),
        2 => match route_query(config, query, now)? {
            Routed::FriendAdd(query) => {
                verify_body_for::<FriendAdd>(config, query, body).map(Verified::Add)
            }
            Routed::FriendResponse(query) => {
                verify_body_for::<FriendResponse>(config, query, body).map(Verified::Response)
            }
            // Core's unexpected_command, worded by core.
            _ => verify(config, query, body, now).map(Verified::Response),
        },
        _ => verify(config, query, body, now).map(Verified::Response),
    }
}

self_cell::self_cell!(
    /// A verified callback kept with the buffers it borrows from, so that
    /// keeping it between `begin` and `finish` copies one buffer instead of
    /// every string of the callback.
    struct Kept {
        owner: Request,
        #[covariant]
        dependent: Borrowed,
    }
);

/// Verified callbacks waiting for their decisions, by slot number. The
/// JavaScript layer always ends a slot with `finish` or `discard`.
#[derive(Default)]
struct Slots {
    entries: Vec<Option<Kept>>,
    free: Vec<u32>,
}

impl Slots {
    fn insert(&mut self, callback: Kept) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.entries[slot as usize] = Some(callback);
                slot
            }
            None => {
                self.entries.push(Some(callback));
                u32::try_from(self.entries.len() - 1).unwrap_or(u32::MAX)
            }
        }
    }

    fn take(&mut self, slot: u32) -> Option<Kept> {
        let callback = self.entries.get_mut(slot as usize)?.take()?;
        self.free.push(slot);
        Some(callback)
    }
}
/// Verifies a request and keeps it in a slot (see `NativeHandler::begin`).
fn begin(
    config: &Config,
    slots: &Mutex<Slots>,
    query: String,
    body: Vec<u8>,
    now: Option<f64>,
    want: u32,
) -> String {
    let now = now.map_or_else(unix_now, |n| n as u64);
    let kept = Kept::try_new(Request { query, body }, |request| {
        verified(config, want, &request.query, &request.body, now)
    });
    match kept {
        Ok(kept) => match slots.lock() {
            Ok(mut slots) => {
                let slot = slots
                    .free
                    .last()
                    .copied()
                    .unwrap_or(slots.entries.len() as u32);
                let wire = wire(kept.borrow_dependent(), slot);
                slots.insert(kept);
                wire
            }
            Err(_) => String::new(),
        },
        Err(error) => refusal_text(&CoreReply::from_error(error)),
    }
}

/// `begin` run off the event loop.
pub struct BeginTask {
    config: Arc<Config>,
    slots: Arc<Mutex<Slots>>,
    work: Option<(String, Vec<u8>, Option<f64>, u32)>,
}

impl Task for BeginTask {
    type Output = String;
    type JsValue = String;

    fn compute(&mut self) -> napi::Result<String> {
        let (query, body, now, want) = self.work.take().unwrap_or_default();
        Ok(begin(&self.config, &self.slots, query, body, now, want))
    }

    fn resolve(&mut self, _env: Env, output: String) -> napi::Result<String> {
        Ok(output)
    }
}

/// Core's configuration for one set of app ids and tokens.
#[napi]
pub struct NativeHandler {
    config: Arc<Config>,
    slots: Arc<Mutex<Slots>>,
}

#[napi]
impl NativeHandler {
    /// Builds the configuration from the JSON the JavaScript layer writes.
    #[napi(constructor)]
    pub fn new(options_json: String) -> napi::Result<Self> {
        let config = ConfigSpec::from_json(&options_json)
            .and_then(ConfigSpec::build)
            .or_throw()?;
        Ok(Self {
            config: Arc::new(config),
            slots: Arc::new(Mutex::new(Slots::default())),
        })
    }

    /// Milliseconds deciders get for one callback.
    #[napi(getter)]
    pub fn decider_deadline_ms(&self) -> u32 {
        u32::try_from(self.config.decider_deadline().as_millis()).unwrap_or(u32::MAX)
    }

    /// Verifies a callback. Returns `slot:` + the event (see `event_wire`;
    /// the slot is to `finish` or `discard`), or `!` + the refusal as JSON.
    #[napi]
    pub fn begin(&self, query: String, body: &[u8], now: Option<f64>, want: Option<u32>) -> String {
        let want = want.unwrap_or(0);
        begin(&self.config, &self.slots, query, body.to_vec(), now, want)
    }

    /// `begin` on libuv's thread pool, for large bodies, so that parsing
    /// never holds the event loop.
    #[napi]
    pub fn begin_async(
        &self,
        query: String,
        body: &[u8],
        now: Option<f64>,
        want: Option<u32>,
    ) -> AsyncTask<BeginTask> {
        AsyncTask::new(BeginTask {
            config: Arc::clone(&self.config),
            slots: Arc::clone(&self.slots),
            work: Some((query, body.to_vec(), now, want.unwrap_or(0))),
        })
    }

    /// Answers the callback in `slot` from the first `count` outcomes (the
    /// array is reused between calls). `codes[i]`: 0 allow, 38000..=39000
    /// reject with `infos[i]`, -1 failed with message `infos[i]`, -2 late;
    /// `infos` may be omitted when every code is 0. Core's failure policy
    /// applies. Returns the answer (JSON text), or `!` + the refusal as JSON
    /// when the policy fails the callback.
    #[napi]
    pub fn finish(
        &self,
        slot: u32,
        codes: Int32Array,
        count: u32,
        infos: Option<Vec<String>>,
    ) -> String {
        let Some(callback) = self
            .slots
            .lock()
            .ok()
            .and_then(|mut slots| slots.take(slot))
        else {
            let error = CallbackError::DeciderFailed {
                index: 0,
                reason: "unknown slot".to_owned(),
            };
            return refusal_text(&CoreReply::from_error(error));
        };
        let outcomes = outcomes(&codes, count as usize, infos);
        let reply = callback.borrow_dependent().respond(&self.config, outcomes);
        // A string crosses faster than an external Buffer; core's answer is
        // UTF-8 JSON, which never starts with `!`.
        if reply.error.is_some() {
            refusal_text(&reply)
        } else {
            String::from_utf8(reply.body).unwrap_or_default()
        }
    }

    /// Where a request on the one callback URL goes: empty text for this
    /// callback (answer it with `begin`), `?` + the authenticated request of
    /// another command as JSON, or `!` + the refusal as JSON.
    #[napi]
    pub fn route(&self, query: String, now: Option<f64>) -> String {
        let now = now.map_or_else(unix_now, |n| n as u64);
        match route_query(&self.config, &query, now) {
            Ok(Routed::Other(other)) => request_text(&other.view()),
            // A friend callback friendgate decides (a response or a request).
            Ok(_) => String::new(),
            Err(error) => refusal_text(&CoreReply::from_error(error)),
        }
    }

    /// Authenticates the query of a callback of any command: `?` + the
    /// request as JSON, or `!` + the refusal as JSON.
    #[napi]
    pub fn authenticate(&self, query: String, now: Option<f64>) -> String {
        let now = now.map_or_else(unix_now, |n| n as u64);
        match authenticate_any(&self.config, &query, now) {
            Ok(query) => request_text(&query.view()),
            Err(error) => refusal_text(&CoreReply::from_error(error)),
        }
    }

    /// Frees `slot` without answering (the JavaScript side failed).
    #[napi]
    pub fn discard(&self, slot: u32) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.take(slot);
        }
    }
}
