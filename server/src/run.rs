//! `friendgate serve`: logging, the server, reload on SIGHUP (and on file
//! change when `watch_config` is on), graceful shutdown on SIGTERM/SIGINT.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::signal::unix::{signal, SignalKind};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::gateway::Gateway;
use crate::logformat::JsonLines;
use crate::logwriter::{batch_writer, BatchGuard};
use crate::serve::Server;
use crate::settings::{LogFormat, LogSettings};

/// How often `watch_config` looks at the files.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Sets up logging to standard output through a batching background writer
/// ([`crate::logwriter`]), so a slow terminal or pipe does not stall a
/// callback. Keep the guard alive: dropping it writes what is left.
pub fn init_logging(log: &LogSettings) -> BatchGuard {
    let (writer, guard) = batch_writer(std::io::stdout());
    let filter = EnvFilter::try_new(&log.level).unwrap_or_else(|_| EnvFilter::new("info"));
    // Fails only when a subscriber is already set (tests): keep that one.
    let _ = match log.format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
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
    Ok(())
}

/// Reloads when the config or a list file it names changes.
async fn watch(gateway: Arc<Gateway>, mut files: Vec<PathBuf>) {
    let mut seen = stamps(&files);
    loop {
        tokio::time::sleep(WATCH_INTERVAL).await;
        let now = stamps(&files);
        if now != seen {
            seen = now;
            if gateway.reload().is_ok() {
                files = gateway.settings().watched_files.clone();
                seen = stamps(&files);
            }
        }
    }
}

fn stamps(files: &[PathBuf]) -> Vec<Option<SystemTime>> {
    files.iter().map(|f| modified(f)).collect()
}

fn modified(file: &Path) -> Option<SystemTime> {
    std::fs::metadata(file).and_then(|m| m.modified()).ok()
}
