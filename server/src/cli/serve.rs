//! `friendgate serve` around the server ([`crate::server`]):
//! logging, the descriptor limit, reload on SIGHUP (and on file change when
//! `watch_config` is on), graceful shutdown on SIGTERM/SIGINT.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::signal::unix::{signal, SignalKind};

use crate::gateway::Gateway;
use crate::server::Server;

/// How often `watch_config` looks at the files.
const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// How long changed files must hold still before they are read.
const SETTLE: Duration = Duration::from_millis(500);

/// Runs the gateway until SIGTERM or SIGINT.
pub async fn serve(gateway: Arc<Gateway>) -> Result<(), Box<dyn std::error::Error>> {
    crate::server::raise_descriptor_limit();
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
