//! The JVM's hot path over JNI: `begin` (verify and parse; the event
//! crosses once, as one compact buffer) and `finish` (the outcomes in, the
//! answer out). UniFFI's JNA transport costs tens of µs per call on the JVM
//! and a callback made about eleven; here it is two JNI calls
//! (BENCHMARKS.md, "Kotlin through JNI"). Everything else stays on UniFFI.
//!
//! The wire (little-endian), read and written by `Jni.kt` alone:
//! a string is an `i32` length (-1: null) and UTF-8 bytes; an optional
//! integer a `u8` flag and the value; a list an `i32` count and its items.
//!
//! The only `unsafe` of the crate outside UniFFI's macros: the handles the
//! JVM holds are raw pointers to an `Arc<Config>` and a `Box<Pending>`.
//! Rust panics are caught here and answered as core's `decider_failed`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use friendgate_core::{
    CallbackError as CoreError, Config, DeciderError, Decision, Reply as CoreReply, Returned,
    Verified,
};
use jni::objects::{JByteArray, JClass};
use jni::sys::{jboolean, jbyteArray, jint, jlong, JNI_TRUE};
use jni::JNIEnv;
use jni::NativeMethod;

use crate::decision::DeciderFailure;
use crate::handler::{finish, verified, Command, Finished};
use crate::request::{AddItem, FriendAddCallback, FriendResponseCallback, ResponseItem};
use crate::response::Reply;

/// JNI `begin` calls so far, in this copy of the library (the tests'
/// proof that the JVM takes this path, read through UniFFI as well).
static CALLS: AtomicU64 = AtomicU64::new(0);

/// JNI `begin` calls so far, read through UniFFI: equal to what the JNI side
/// counts only when both transports run in the one copy of the library.
#[uniffi::export]
pub fn jni_calls() -> i64 {
    i64::try_from(CALLS.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
}

/// Pending callbacks alive (made by `begin`, freed by `finish` or
/// `discard`): the tests' check that none is left behind.
static LIVE: AtomicU64 = AtomicU64::new(0);

/// Pending callbacks alive, read through UniFFI.
#[uniffi::export]
pub fn jni_pending() -> i64 {
    i64::try_from(LIVE.load(Ordering::Relaxed)).unwrap_or(i64::MAX)
}

/// A verified callback waiting for its outcomes, behind a `jlong`.
struct Pending {
    config: Arc<Config>,
    /// Taken by `finish`.
    callback: Option<Verified<'static>>,
}

impl Pending {
    fn new(config: Arc<Config>, callback: Verified<'static>) -> Self {
        LIVE.fetch_add(1, Ordering::Relaxed);
        Self {
            config,
            callback: Some(callback),
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A strong reference to `config` as a `jlong` (`release` gives it back).
pub(crate) fn config_handle(config: &Arc<Config>) -> i64 {
    Arc::into_raw(Arc::clone(config)) as i64
}

/// The configuration behind `handle`, with a count of its own.
///
/// # Safety
/// `handle` came from [`config_handle`] and was not released yet.
unsafe fn config_of(handle: jlong) -> Arc<Config> {
    // SAFETY: a pointer from `Arc::into_raw`, alive until `release` (the
    // Kotlin side counts its calls and releases after the last); wrapped in
    // `ManuallyDrop` so that the count the handle holds is not given back.
    let held = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(handle as *const Config) });
    Arc::clone(&held)
}

/// Encodes what the JVM reads.
#[derive(Default)]
struct Wire(Vec<u8>);

impl Wire {
    fn u8(&mut self, v: u8) -> &mut Self {
        self.0.push(v);
        self
    }
    fn i32(&mut self, v: i32) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn i64(&mut self, v: i64) -> &mut Self {
        self.0.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn bool(&mut self, v: bool) -> &mut Self {
        self.u8(u8::from(v))
    }
    fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.i32(i32::try_from(v.len()).unwrap_or(i32::MAX));
        self.0.extend_from_slice(v);
        self
    }
    fn str(&mut self, v: &str) -> &mut Self {
        self.bytes(v.as_bytes())
    }
    fn opt_str(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(v),
            None => self.i32(-1),
        }
    }
    fn opt_i64(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.u8(1).i64(v),
            None => self.u8(0),
        }
    }
    fn reply(&mut self, reply: &Reply) -> &mut Self {
        self.i32(reply.status)
            .str(&reply.content_type)
            .bytes(&reply.body)
            .opt_str(reply.error_code.as_deref())
    }
    fn response(&mut self, e: &FriendResponseCallback) -> &mut Self {
        self.i64(e.sdk_app_id)
            .opt_str(e.platform.as_deref())
            .bool(e.platform_known)
            .opt_str(e.client_ip.as_deref())
            .opt_i64(e.request_time)
            .str(&e.requester_account)
            .str(&e.from_account)
            .i64(e.event_time_ms)
            .i32(i32::try_from(e.items.len()).unwrap_or(i32::MAX));
        for item in &e.items {
            self.response_item(item);
        }
        self
    }
    fn response_item(&mut self, i: &ResponseItem) -> &mut Self {
        self.i32(i.index)
            .str(&i.to_account)
            .str(&i.remark)
            .str(&i.tag_name)
            .str(&i.action)
            .bool(i.action_known)
            .bool(i.is_accept)
    }
    fn add(&mut self, e: &FriendAddCallback) -> &mut Self {
        self.i64(e.sdk_app_id)
            .opt_str(e.platform.as_deref())
            .bool(e.platform_known)
            .opt_str(e.client_ip.as_deref())
            .opt_i64(e.request_time)
            .str(&e.requester_account)
            .str(&e.from_account)
            .str(&e.add_type)
            .bool(e.add_type_known)
            .i64(e.force_add_flags)
            .i64(e.event_time_ms)
            .i32(i32::try_from(e.items.len()).unwrap_or(i32::MAX));
        for item in &e.items {
            self.add_item(item);
        }
        self
    }
    fn add_item(&mut self, i: &AddItem) -> &mut Self {
        self.i32(i.index)
            .str(&i.to_account)
            .str(&i.remark)
            .str(&i.group_name)
            .str(&i.add_source)
            .str(&i.add_wording)
    }
    fn finished(&mut self, finished: &Finished) -> &mut Self {
        self.reply(&finished.reply)
            .i32(i32::try_from(finished.failures.len()).unwrap_or(i32::MAX));
        for DeciderFailure {
            index,
            to_account,
            reason,
            report,
        } in &finished.failures
        {
            self.i32(*index).str(to_account).str(reason).str(report);
        }
        self
    }
}

/// Reads what the JVM wrote; `None` past its end.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = (self.0.get(..n)?, self.0.get(n..)?);
        self.0 = rest;
        Some(head)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn i32(&mut self) -> Option<i32> {
        Some(i32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<String> {
        let len = usize::try_from(self.i32()?).ok()?;
        Some(String::from_utf8_lossy(self.take(len)?).into_owned())
    }
}

/// Reads the outcomes the JVM wrote: a count, then per item a kind (0
/// allow, 1 reject with code and info, 2 raised with its message, 3 late,
/// 4 nothing). `None` for a buffer that ends early.
fn outcomes(buf: &[u8]) -> Option<Vec<Result<Decision, DeciderError>>> {
    let mut read = Reader(buf);
    let count = usize::try_from(read.i32()?).ok()?;
    let mut outcomes = Vec::with_capacity(count.min(buf.len()));
    for _ in 0..count {
        let outcome = match read.u8()? {
            0 => Returned::Allow.outcome(),
            1 => {
                let code = i64::from(read.i32()?);
                let info = read.str()?;
                Returned::Reject { code, info: &info }.outcome()
            }
            2 => Returned::Raised(&read.str()?).outcome(),
            3 => Returned::Late.outcome(),
            _ => Returned::Nothing.outcome(),
        };
        outcomes.push(outcome);
    }
    Some(outcomes)
}

/// Core's answer to a failure of this layer (a panic, a broken buffer).
fn failed(reason: String) -> Reply {
    CoreReply::from_error(CoreError::DeciderFailed { index: 0, reason }).into()
}

/// The message of a caught panic.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    format!("internal error: {text}")
}

/// `begin`'s answer: 0 and the refusal, or 1 (friend response) / 2 (friend
/// request), the pending callback's handle and the event.
fn begin(
    config: &Arc<Config>,
    command: Command,
    query: &[u8],
    body: &[u8],
    now: Option<i64>,
) -> Vec<u8> {
    let mut wire = Wire::default();
    let query = String::from_utf8_lossy(query);
    match verified(config, command, &query, body, now) {
        Err(error) => {
            wire.u8(0).reply(&CoreReply::from_error(error).into());
        }
        Ok(callback) => {
            let (tag, response, add) = match &callback {
                Verified::Response(r) => (1, Some(FriendResponseCallback::from(r.view())), None),
                Verified::Add(a) => (2, None, Some(FriendAddCallback::from(a.view()))),
                _ => (0, None, None),
            };
            if tag == 0 {
                wire.u8(0)
                    .reply(&failed("unknown callback kind".to_owned()));
                return wire.0;
            }
            let pending = Box::into_raw(Box::new(Pending::new(Arc::clone(config), callback)));
            wire.u8(tag).i64(pending as i64);
            if let Some(event) = response {
                wire.response(&event);
            }
            if let Some(event) = add {
                wire.add(&event);
            }
        }
    }
    wire.0
}

/// `begin`'s answer from `run`, or, should it panic, a refusal worded as
/// core's `decider_failed`: a panic never unwinds into the JVM.
fn guarded(run: impl FnOnce() -> Vec<u8>) -> Vec<u8> {
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|panic| {
        let mut wire = Wire::default();
        wire.u8(0).reply(&failed(panic_text(panic.as_ref())));
        wire.0
    })
}

/// A byte array for the JVM, or null with a Java exception pending.
fn to_java(env: &JNIEnv<'_>, bytes: &[u8]) -> jbyteArray {
    env.byte_array_from_slice(bytes)
        .map_or(std::ptr::null_mut(), JByteArray::into_raw)
}

/// `Jni.begin(config, command, query, body, now, hasNow)`.
#[no_mangle]
pub extern "system" fn Java_dev_friendgate_Jni_begin<'local>(
    env: JNIEnv<'local>,
    _class: JClass<'local>,
    config: jlong,
    command: jint,
    query: JByteArray<'local>,
    body: JByteArray<'local>,
    now: jlong,
    has_now: jboolean,
) -> jbyteArray {
    CALLS.fetch_add(1, Ordering::Relaxed);
    let (Ok(query), Ok(body)) = (
        env.convert_byte_array(&query),
        env.convert_byte_array(&body),
    ) else {
        return std::ptr::null_mut();
    };
    let command = match command {
        0 => Command::Response,
        1 => Command::Add,
        _ => Command::Either,
    };
    let now = (has_now == JNI_TRUE).then_some(now);
    // SAFETY: the Kotlin side passes the handle of a live handler.
    let config = unsafe { config_of(config) };
    to_java(
        &env,
        &guarded(|| begin(&config, command, &query, &body, now)),
    )
}

/// `Jni.finish(pending, outcomes)`: the answer and the failures; frees the
/// pending callback.
#[no_mangle]
pub extern "system" fn Java_dev_friendgate_Jni_finish<'local>(
    env: JNIEnv<'local>,
    _class: JClass<'local>,
    pending: jlong,
    outcomes: JByteArray<'local>,
) -> jbyteArray {
    // SAFETY: `pending` came from `begin`'s `Box::into_raw`, and the Kotlin
    // side passes it to `finish` or `discard` once.
    let mut pending = unsafe { Box::from_raw(pending as *mut Pending) };
    let Ok(buf) = env.convert_byte_array(&outcomes) else {
        return std::ptr::null_mut();
    };
    let finished = catch_unwind(AssertUnwindSafe(|| match self::outcomes(&buf) {
        Some(outcomes) => finish(&pending.config, pending.callback.take(), outcomes),
        None => Finished {
            reply: failed("outcomes not readable".to_owned()),
            failures: Vec::new(),
        },
    }))
    .unwrap_or_else(|panic| Finished {
        reply: failed(panic_text(panic.as_ref())),
        failures: Vec::new(),
    });
    let mut wire = Wire::default();
    wire.finished(&finished);
    to_java(&env, &wire.0)
}

/// `Jni.discard(pending)`: frees a pending callback never finished.
#[no_mangle]
pub extern "system" fn Java_dev_friendgate_Jni_discard(
    _env: JNIEnv<'_>,
    _class: JClass<'_>,
    pending: jlong,
) {
    // SAFETY: as for `finish`: a handle from `begin`, given back once.
    drop(unsafe { Box::from_raw(pending as *mut Pending) });
}

/// `Jni.release(config)`: gives back a handle of `config_handle`.
#[no_mangle]
pub extern "system" fn Java_dev_friendgate_Jni_release(
    _env: JNIEnv<'_>,
    _class: JClass<'_>,
    config: jlong,
) {
    // SAFETY: a pointer from `Arc::into_raw` in `config_handle`, released once
    // by the Kotlin side after its last call.
    drop(unsafe { Arc::from_raw(config as *const Config) });
}

/// Binds `dev.friendgate.Jni`'s native methods to this copy of the library;
/// 0 when done. Called through JNA (with `JNIEnv.CURRENT`) from the library
/// JNA loaded for UniFFI: JNA extracts a library packed in a jar to a
/// temporary file and deletes it once loaded, so `System.load` cannot reach
/// that copy, and a second copy would have statics of its own.
#[no_mangle]
pub extern "system" fn friendgate_jni_register(env: *mut jni::sys::JNIEnv) -> jint {
    let registered = catch_unwind(|| {
        // SAFETY: JNA passes the calling thread's valid `JNIEnv` pointer.
        let mut env = unsafe { JNIEnv::from_raw(env) }.ok()?;
        let class = env.find_class("dev/friendgate/Jni").ok()?;
        let method = |name: &str, sig: &str, fn_ptr: *mut std::ffi::c_void| NativeMethod {
            name: name.into(),
            sig: sig.into(),
            fn_ptr,
        };
        let methods = [
            method(
                "begin",
                "(JI[B[BJZ)[B",
                Java_dev_friendgate_Jni_begin as *mut _,
            ),
            method(
                "finish",
                "(J[B)[B",
                Java_dev_friendgate_Jni_finish as *mut _,
            ),
            method("discard", "(J)V", Java_dev_friendgate_Jni_discard as *mut _),
            method("release", "(J)V", Java_dev_friendgate_Jni_release as *mut _),
            method("calls", "()J", Java_dev_friendgate_Jni_calls as *mut _),
        ];
        env.register_native_methods(&class, &methods).ok()
    });
    match registered {
        Ok(Some(())) => 0,
        _ => 1,
    }
}

/// `Jni.calls()`: `begin` calls so far, as this copy of the library counts.
#[no_mangle]
pub extern "system" fn Java_dev_friendgate_Jni_calls(
    _env: JNIEnv<'_>,
    _class: JClass<'_>,
) -> jlong {
    jni_calls()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_is_answered_as_cores_decider_failed() {
        let out = guarded(|| panic!("boom"));
        let mut read = Reader(&out);
        assert_eq!(read.u8(), Some(0), "a refusal");
        assert_eq!(read.i32(), Some(500));
        assert_eq!(read.str().as_deref(), Some("application/json"));
        let body = read.str().unwrap();
        assert!(body.contains("\"ErrorCode\":38031"), "{body}");
        assert!(body.contains("internal error: boom"), "{body}");
        assert_eq!(read.str().as_deref(), Some("decider_failed"));
    }

    #[test]
    fn outcomes_read_every_kind_and_refuse_a_short_buffer() {
        let mut wire = Wire::default();
        wire.i32(5)
            .u8(0)
            .u8(1)
            .i32(38001)
            .str("spam")
            .u8(2)
            .str("boom")
            .u8(3)
            .u8(4);
        let read = outcomes(&wire.0).unwrap();
        assert_eq!(read.len(), 5);
        assert_eq!(read[0], Ok(Decision::Allow));
        assert_eq!(read[1].as_ref().map(Decision::result_code), Ok(38001));
        assert!(read[2].is_err() && read[3].is_err() && read[4].is_err());
        assert_eq!(outcomes(&wire.0[..wire.0.len() - 2]), None);
        assert_eq!(outcomes(&[]), None);
    }
}
