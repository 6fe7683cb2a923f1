//! The connection watchdog behind `header_timeout`: a connection that goes
//! that long with no request in progress and no new request arriving (a
//! client sending its headers slowly or not at all, or a kept-alive
//! connection left idle) is closed.
//!
//! hyper's own header timeout arms a timer for every request (a boxed sleep
//! registered in tokio's timer wheel and removed again), which costs more
//! than a tenth of a small callback's own work. Here each connection has
//! one sleeping task that looks at two counters a few times per timeout,
//! and a request costs two relaxed atomic additions.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper::service::Service;
use pin_project_lite::pin_project;
use prometheus_client::metrics::histogram::Histogram;
use tokio::task::AbortHandle;

/// Checks per timeout: a connection is closed between 1 and 1.25 timeouts
/// after its last request finished (or after it opened).
const CHECKS_PER_TIMEOUT: u32 = 4;

/// Requests started and finished on one connection, and the time its
/// client waits for each callback's answer.
#[derive(Debug, Default)]
pub struct Activity {
    started: AtomicU64,
    finished: AtomicU64,
    /// Set once the server began closing the connection (a lingering close).
    closing: std::sync::atomic::AtomicBool,
    /// What the client waited, for the callback listener's connections.
    waited: Option<Waited>,
}

/// The answer latency a client sees: from the first byte of a request read
/// to its answer written (flushed), so that whatever delays a callback
/// before its route runs or after it returned (a starved runtime, a full
/// socket) shows in `friendgate_callback_duration_seconds`.
#[derive(Debug)]
struct Waited {
    /// The times below count from here.
    opened: std::time::Instant,
    /// When the request being answered began to arrive, µs + 1 (0: none).
    arrived: AtomicU64,
    /// When its route began, µs + 1, once its answer is ready (0: none;
    /// [`NOT_TIMED`]: an answer that is not a callback's).
    answered: AtomicU64,
    latency: Histogram,
}

/// `Waited::answered` for an answer the histogram does not count (a health
/// check, a forwarded command): its flush only ends the request's clock.
const NOT_TIMED: u64 = u64::MAX;

impl Waited {
    fn micros(&self, at: std::time::Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.opened).as_micros()).unwrap_or(u64::MAX - 1)
            + 1
    }
}

impl Activity {
    /// The activity of a callback listener's connection, whose answers are
    /// observed in `latency` once written.
    pub fn measured(latency: Histogram) -> Self {
        Self {
            waited: Some(Waited {
                opened: std::time::Instant::now(),
                arrived: AtomicU64::new(0),
                answered: AtomicU64::new(0),
                latency,
            }),
            ..Self::default()
        }
    }

    /// Bytes were read: the first of a request starts its clock.
    pub fn bytes_read(&self) {
        if let Some(waited) = &self.waited {
            if waited.arrived.load(Ordering::Relaxed) == 0 {
                let now = waited.micros(std::time::Instant::now());
                waited.arrived.store(now, Ordering::Relaxed);
            }
        }
    }

    /// A callback's answer is ready (its route began at `started`): it is
    /// observed once written.
    pub fn answered(&self, started: std::time::Instant) {
        if let Some(waited) = &self.waited {
            waited
                .answered
                .store(waited.micros(started), Ordering::Relaxed);
        }
    }

    /// An answer that is not a callback's is ready: once written, the next
    /// request's clock starts afresh, and nothing is observed.
    pub fn answered_untimed(&self) {
        if let Some(waited) = &self.waited {
            waited.answered.store(NOT_TIMED, Ordering::Relaxed);
        }
    }

    /// What was written is flushed: an answer ready by then is observed,
    /// from the first byte of its request (or from its route's start, for a
    /// request read with the one before it).
    pub fn flushed(&self) {
        let Some(waited) = &self.waited else {
            return;
        };
        let answered = waited.answered.swap(0, Ordering::Relaxed);
        if answered == 0 {
            return;
        }
        let arrived = waited.arrived.swap(0, Ordering::Relaxed);
        if answered == NOT_TIMED {
            return;
        }
        let from = if arrived == 0 {
            answered
        } else {
            arrived.min(answered)
        };
        let now = waited.micros(std::time::Instant::now());
        waited
            .latency
            .observe(now.saturating_sub(from) as f64 / 1_000_000.0);
    }

    /// Counts a request as started until the returned guard is dropped
    /// (when its answer is ready, or when it is abandoned).
    pub fn start(self: &Arc<Self>) -> Finished {
        self.started.fetch_add(1, Ordering::Relaxed);
        Finished(Arc::clone(self))
    }

    /// Whether no request is in progress.
    pub fn is_idle(&self) -> bool {
        let (started, finished) = self.snapshot();
        started == finished
    }

    /// Whether the connection has never had a request.
    pub fn is_unused(&self) -> bool {
        self.started.load(Ordering::Relaxed) == 0
    }

    /// Marks the connection as being closed by the server.
    pub fn mark_closing(&self) {
        self.closing.store(true, Ordering::Relaxed);
    }

    /// Whether the server is closing the connection.
    pub fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Relaxed)
    }

    fn snapshot(&self) -> (u64, u64) {
        (
            self.started.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }
}

/// Marks a request finished when dropped.
#[derive(Debug)]
pub struct Finished(Arc<Activity>);

impl Drop for Finished {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

/// A connection's service, counting each request in the connection's
/// [`Activity`] from the call until its future is dropped.
#[derive(Debug, Clone)]
pub struct Counted<S> {
    inner: S,
    activity: Arc<Activity>,
}

impl<S> Counted<S> {
    /// `inner`, counting its requests in `activity`.
    pub fn new(inner: S, activity: Arc<Activity>) -> Self {
        Self { inner, activity }
    }
}

impl<S: Service<R>, R> Service<R> for Counted<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = CountedFuture<S::Future>;

    fn call(&self, request: R) -> Self::Future {
        CountedFuture {
            finished: self.activity.start(),
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// The future of a [`Counted`] request: the inner one, and the mark
    /// that the request finished once hyper drops it.
    #[derive(Debug)]
    pub struct CountedFuture<F> {
        #[pin]
        inner: F,
        finished: Finished,
    }
}

impl<F: Future> Future for CountedFuture<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx)
    }
}

/// Waits until the connection has been idle for `timeout` (true: no
/// request in progress and none started through every check of that span)
/// or until `ended` says it is gone (false).
pub async fn idle_for(activity: &Activity, timeout: Duration, ended: impl Fn() -> bool) -> bool {
    let check = timeout / CHECKS_PER_TIMEOUT;
    let mut last = activity.snapshot();
    let mut idle_checks = 0;
    loop {
        tokio::time::sleep(check).await;
        if ended() {
            return false;
        }
        let now = activity.snapshot();
        if now == last && now.0 == now.1 {
            idle_checks += 1;
            if idle_checks >= CHECKS_PER_TIMEOUT {
                return true;
            }
        } else {
            idle_checks = 0;
        }
        last = now;
    }
}

/// Watches the connection served by the task of `connection` and closes it
/// (aborting that task) once it has been idle for `timeout`. A task of its
/// own rather than a branch next to the connection, which would be polled
/// on every wake-up of the connection.
pub async fn watchdog(
    activity: Arc<Activity>,
    timeout: Duration,
    connection: AbortHandle,
    peer: SocketAddr,
) {
    if idle_for(&activity, timeout, || connection.is_finished()).await {
        connection.abort();
        tracing::debug!(target: "friendgate::server", %peer, "connection closed: idle past header_timeout");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_idle_connection_is_closed_after_one_timeout() {
        let activity = Arc::new(Activity::default());
        let started = tokio::time::Instant::now();
        idle_for(&activity, Duration::from_secs(8), || false).await;
        assert_eq!(started.elapsed(), Duration::from_secs(8));
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_in_progress_keeps_the_connection_open() {
        let activity = Arc::new(Activity::default());
        let request = activity.start();
        let watchdog = idle_for(&activity, Duration::from_secs(8), || false);
        let outcome = tokio::time::timeout(Duration::from_secs(60), watchdog).await;
        assert!(
            outcome.is_err(),
            "not closed while a request is in progress"
        );
        // Finished: closed one timeout (plus at most one check) later.
        drop(request);
        let finished = tokio::time::Instant::now();
        idle_for(&activity, Duration::from_secs(8), || false).await;
        assert!(finished.elapsed() <= Duration::from_secs(10));
    }

    #[tokio::test(start_paused = true)]
    async fn each_new_request_restarts_the_idle_span() {
        let activity = Arc::new(Activity::default());
        let traffic = {
            let activity = Arc::clone(&activity);
            async move {
                // A request every 5 s for a minute, each done at once.
                for _ in 0..12 {
                    drop(activity.start());
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
                std::future::pending::<()>().await;
            }
        };
        let began = tokio::time::Instant::now();
        tokio::select! {
            () = traffic => unreachable!(),
            _ = idle_for(&activity, Duration::from_secs(8), || false) => {}
        }
        // The last request came at 55 s; closed 8 to 10 s after it.
        let closed = began.elapsed();
        assert!(closed >= Duration::from_secs(63), "{closed:?}");
        assert!(closed <= Duration::from_secs(65), "{closed:?}");
    }
}
