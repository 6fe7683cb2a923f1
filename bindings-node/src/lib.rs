//! The native module of the `friendgate` npm package: a thin skin over
//! friendgate-core. Every check, limit, error and answer byte is core's; the
//! JavaScript layer (`lib/`) adds idioms (options objects, Promises, Error
//! classes, adapters).
//!
//! Crossing the boundary is the cost to engineer down, so a callback takes
//! two calls: `begin` (verify; the event comes back as compact text, see
//! `request`) and `finish` (the decisions as parallel arrays; core applies
//! the failure policy and writes the answer).

// napi-rs's macros expand to `unsafe` N-API glue inside this crate.
#![allow(unsafe_code)]

mod decision;
mod error;
mod handler;
mod request;
mod response;
mod testing;
