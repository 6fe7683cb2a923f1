//! The `friendgate` subcommands, one file each: `main.rs` parses the command
//! line and calls the one asked for.

pub mod accounts;
pub mod check;
pub mod handle;
pub mod serve;
/// Needs core's signing helpers, which the `conform` feature brings.
#[cfg(feature = "conform")]
pub mod sign;

pub use serve::serve;

/// Logging as the binary sets it up; here for the path of earlier releases
/// (`command::init_logging`).
pub use crate::logging::init_logging;

/// The bytes of `path`, or of standard input for `-`.
pub(crate) fn read_input(path: &std::path::Path) -> Result<Vec<u8>, std::io::Error> {
    if path == std::path::Path::new("-") {
        let mut body = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut body)?;
        Ok(body)
    } else {
        std::fs::read(path)
    }
}
