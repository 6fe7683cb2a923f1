//! UniFFI binding of friendgate-core for Kotlin (JVM) and Swift. Types are
//! converted; every behaviour is core's. The public Kotlin API is the
//! hand-written layer in `kotlin/src/main/kotlin` over this native surface;
//! every integer is signed, so that Java can call what Kotlin can.

// UniFFI's macros expand to `unsafe` FFI glue inside this crate.
#![allow(unsafe_code)]

mod decision;
mod error;
mod handler;
mod request;
mod response;
mod testing;

uniffi::setup_scaffolding!();
