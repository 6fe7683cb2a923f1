//! The `friendgate serve` command around the listener ([`crate::listener`]):
//! logging, the descriptor limit, reload on SIGHUP (and on file change when
//! `watch_config` is on), graceful shutdown on SIGTERM/SIGINT.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::signal::unix::{signal, SignalKind};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::gateway::Gateway;
use prometheus_client::metrics::counter::Counter;

use crate::listener::Server;
use crate::logformat::{escaped_fields, JsonLines};
use crate::logwriter::{batch_writer, BatchGuard};
use crate::settings::{LogFormat, LogSettings};

/// How often `watch_config` looks at the files.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// How long changed files must hold still before they are read.
const SETTLE: Duration = Duration::from_millis(500);

/// Sets up logging to standard output through a batching background writer
/// ([`crate::logwriter`]), so a slow or stopped reader of standard output
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

/// Runs the gateway until SIGTERM or SIGINT.
pub async fn serve(gateway: Arc<Gateway>) -> Result<(), Box<dyn std::error::Error>> {
    crate::listener::raise_descriptor_limit();
    let server = Server::start(gateway.clone()).await?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let settings = gateway.settings();
    if settings.server.watch_config {
        tokio::spawn(watch(gateway.clone(), settings.watched_files.clone()));
    }
    loop {
        tokio::select! {
            _ = hangup.recv() => {
                tracing::info!(target: "friendgate::reload", "SIGHUP: reloading");
                let _ = gateway.reload();
            }
            _ = terminate.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    tracing::info!(target: "friendgate::server", "stop signal received");
    server.shutdown();
    server.stopped().await;
    // The answers are out: what the event sinks hold gets the grace period.
    gateway.flush_events(settings.server.shutdown_grace).await;
    Ok(())
}

/// Reloads when the config or a list file it names changes, once the files
/// have stopped changing: a file caught while a program rewrites it
/// (truncated, then written) is read only when it holds still.
async fn watch(gateway: Arc<Gateway>, mut files: Vec<PathBuf>) {
    let mut seen = stamps(&files);
    loop {
        tokio::time::sleep(WATCH_INTERVAL).await;
        let mut now = stamps(&files);
        if now == seen {
            continue;
        }
        loop {
            tokio::time::sleep(SETTLE).await;
            let again = stamps(&files);
            if again == now {
                break;
            }
            now = again;
        }
        seen = now;
        if gateway.reload().is_ok() {
            files = gateway.settings().watched_files.clone();
            seen = stamps(&files);
        }
    }
}

/// What tells a file changed: its modification time and its size.
type Stamp = Option<(SystemTime, u64)>;

fn stamps(files: &[PathBuf]) -> Vec<Stamp> {
    files.iter().map(|f| stamp(f)).collect()
}

fn stamp(file: &Path) -> Stamp {
    let metadata = std::fs::metadata(file).ok()?;
    Some((metadata.modified().ok()?, metadata.len()))
}
