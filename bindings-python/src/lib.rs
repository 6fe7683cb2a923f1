//! `friendgate._native`: the Python skin over friendgate-core. Every
//! behaviour is core's; this crate converts types and raises core's errors as
//! the Python exceptions of `friendgate.errors`.

// PyO3's macros expand to `unsafe` FFI glue inside this crate; none is written by hand.
#![allow(unsafe_code)]

mod add;
mod decision;
mod error;
mod handler;
mod request;
mod response;
mod testing;

use pyo3::prelude::*;

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<handler::CallbackHandler>()?;
    m.add_class::<handler::Pending>()?;
    m.add_class::<decision::Allow>()?;
    m.add_class::<decision::Reject>()?;
    m.add_class::<request::FriendResponseCallback>()?;
    m.add_class::<request::ResponseItem>()?;
    m.add_class::<add::FriendAddCallback>()?;
    m.add_class::<add::AddItem>()?;
    m.add_class::<request::CallbackRequest>()?;
    m.add_class::<decision::DeciderFailure>()?;
    m.add_class::<response::Reply>()?;
    m.add_class::<response::Response>()?;
    m.add_function(wrap_pyfunction!(response::refusal, m)?)?;
    m.add_function(wrap_pyfunction!(response::processed, m)?)?;
    m.add_function(wrap_pyfunction!(request::redact_sign, m)?)?;
    m.add_function(wrap_pyfunction!(testing::sign, m)?)?;
    m.add_function(wrap_pyfunction!(testing::signed_query, m)?)?;
    m.add_function(wrap_pyfunction!(testing::sample_body, m)?)?;
    m.add_function(wrap_pyfunction!(testing::sample_add_body, m)?)?;
    m.add("ERROR_CODES", friendgate_core::error::ERROR_CODES.to_vec())?;
    m.add("ERROR_CATALOGUE", error::catalogue())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
