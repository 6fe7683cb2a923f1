//! Logging: one line per callback and per event of note, to standard output
//! through a batching writer that never stalls a callback (`writer`), as
//! text or JSON lines (`format`); refusals before authentication logged at a
//! bounded rate (`refusals`).

pub(crate) mod format;
pub(crate) mod refusals;
pub mod writer;

use prometheus_client::metrics::counter::Counter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::config::settings::{LogFormat, LogSettings};
use crate::logging::format::{escaped_fields, JsonLines};
use crate::logging::writer::{batch_writer, BatchGuard};

/// Sets up logging to standard output through a batching background writer
/// ([`writer`]), so a slow or stopped reader of standard output
/// never stalls a callback: past `log.buffer_bytes` waiting, lines are
/// dropped and counted in `dropped` (the gateway's
/// [`Metrics::log_lines_dropped`](crate::metrics::Metrics::log_lines_dropped)).
/// Text lines escape control characters in every field. Keep the guard
/// alive: dropping it writes what is left.
pub fn init_logging(log: &LogSettings, dropped: Counter) -> BatchGuard {
    let (writer, guard) = batch_writer(std::io::stdout(), log.buffer_bytes, dropped);
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Fails only when a subscriber is already set (tests): keep that one.
    let _ = match log.format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
            .fmt_fields(escaped_fields())
            .with_writer(writer)
            .try_init()
            .is_ok(),
        LogFormat::Json => tracing_subscriber::registry()
            .with(filter)
            .with(JsonLines::new(writer))
            .try_init()
            .is_ok(),
    };
    guard
}
