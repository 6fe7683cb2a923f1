//! UniFFI binding of friendgate-core for Kotlin (JVM) and Swift. Types are
//! converted; every behaviour is core's. The public Kotlin API is the
//! hand-written layer in `kotlin/src/main/kotlin` over this native surface;
//! every integer is signed, so that Java can call what Kotlin can. On the
//! JVM the hot path (`begin`, `finish`) crosses over JNI instead (`jni.rs`).

// UniFFI's macros expand to `unsafe` FFI glue inside this crate; the only
// hand-written `unsafe` is in `jni.rs`.
#![allow(unsafe_code)]

mod decision;
mod error;
mod handler;
mod jni;
mod request;
mod response;
mod testing;

uniffi::setup_scaffolding!();
