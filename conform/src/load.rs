//! `friendgate conform --load`: signed callbacks at a fixed rate, with
//! latency percentiles against the platform's 2-second wait.
//!
//! Requests are scheduled open-loop: request `i` is due at `start + i/rate`,
//! and when the senders fall behind, its latency counts from that moment, so
//! an endpoint that falls behind shows it in the percentiles instead of
//! slowing the sender down ("coordinated omission").

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use friendgate_core::conformance::{judge, Expect, Observed, Rules, Target};
use friendgate_core::testing::{QueryBuilder, SAMPLE_BODY};
use friendgate_core::validate::parse_body;
use friendgate_core::{unix_now, Limits};
use hdrhistogram::Histogram;
use indicatif::ProgressBar;
use serde::Serialize;
use tokio::time::Instant;

use super::client::{Connection, Endpoint};

/// The platform's wait for an answer.
pub const PLATFORM_WAIT: Duration = Duration::from_secs(2);

/// The load to send.
#[derive(Debug, Clone, Copy)]
pub struct LoadSettings {
    /// Callbacks per second.
    pub rate: u32,
    /// For how long.
    pub duration: Duration,
    /// Connections kept open (callbacks in flight at most).
    pub connections: usize,
    /// Give up on an answer after this long.
    pub timeout: Duration,
}

/// Latency percentiles, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Percentiles {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Slowest.
    pub max: f64,
}

/// What the load showed.
#[derive(Debug, Clone, Serialize)]
pub struct LoadReport {
    /// The endpoint's URL.
    pub url: String,
    /// Callbacks per second asked for.
    pub rate: u32,
    /// Seconds asked for.
    pub duration_s: u64,
    /// Callbacks sent.
    pub sent: u64,
    /// Answered 200 `OK` with one valid `ResultItem` per item, within 2 s.
    pub ok: u64,
    /// Answered, but later than the platform waits (2 s).
    pub over_deadline: u64,
    /// Anything else, by kind (first 200 kinds).
    pub errors: Vec<(String, u64)>,
    /// Callbacks answered per second over the run.
    pub achieved_rate: f64,
    /// Latency from each callback's scheduled time, answered ones.
    pub latency_ms: Percentiles,
    /// Whether every callback was answered correctly within 2 s.
    pub passed: bool,
}

struct Shared {
    next: AtomicU64,
    total: u64,
    start: Instant,
    interval_ns: f64,
    histogram: Mutex<Option<Histogram<u64>>>,
    errors: Mutex<Vec<(String, u64)>>,
    ok: AtomicU64,
    over: AtomicU64,
}

/// Whether every address is in the loopback range.
pub fn all_loopback(addresses: &[SocketAddr]) -> bool {
    addresses
        .iter()
        .all(|address| address.ip().to_canonical().is_loopback())
}

/// Sends the load and measures it.
pub async fn run(
    endpoint: &Endpoint,
    target: &Target,
    settings: LoadSettings,
    progress: &ProgressBar,
) -> LoadReport {
    let total = u64::from(settings.rate) * settings.duration.as_secs().max(1);
    // Microseconds, 1 µs to 60 s, 3 significant digits.
    let histogram = Histogram::new_with_bounds(1, 60_000_000, 3).ok();
    let shared = Arc::new(Shared {
        next: AtomicU64::new(0),
        total,
        start: Instant::now() + Duration::from_millis(50),
        interval_ns: 1e9 / f64::from(settings.rate.max(1)),
        histogram: Mutex::new(histogram),
        errors: Mutex::new(Vec::new()),
        ok: AtomicU64::new(0),
        over: AtomicU64::new(0),
    });
    let workers: Vec<_> = (0..settings.connections.max(1))
        .map(|_| {
            let shared = Arc::clone(&shared);
            let endpoint = endpoint.clone();
            let target = target.clone();
            let progress = progress.clone();
            tokio::spawn(async move {
                worker(&endpoint, &target, &shared, settings.timeout, &progress).await
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    progress.finish_and_clear();
    let elapsed = shared.start.elapsed().as_secs_f64().max(1e-9);
    let ok = shared.ok.load(Ordering::Relaxed);
    let over_deadline = shared.over.load(Ordering::Relaxed);
    let errors = shared.errors.lock().map(|e| e.clone()).unwrap_or_default();
    let histogram = shared.histogram.lock().ok().and_then(|h| h.clone());
    let latency_ms = histogram
        .filter(|h| !h.is_empty())
        .map_or_else(Percentiles::default, |h| {
            let ms = |micros: u64| micros as f64 / 1000.0;
            Percentiles {
                p50: ms(h.value_at_quantile(0.50)),
                p90: ms(h.value_at_quantile(0.90)),
                p99: ms(h.value_at_quantile(0.99)),
                p999: ms(h.value_at_quantile(0.999)),
                max: ms(h.max()),
            }
        });
    LoadReport {
        url: endpoint.url().to_owned(),
        rate: settings.rate,
        duration_s: settings.duration.as_secs(),
        sent: total,
        ok,
        over_deadline,
        passed: errors.is_empty() && over_deadline == 0 && ok == total,
        errors,
        achieved_rate: (ok + over_deadline) as f64 / elapsed,
        latency_ms,
    }
}

async fn worker(
    endpoint: &Endpoint,
    target: &Target,
    shared: &Shared,
    timeout: Duration,
    progress: &ProgressBar,
) {
    // The sample's accounts, as core reads them.
    let to_accounts = parse_body(SAMPLE_BODY.as_bytes(), &Limits::default())
        .map(|body| {
            body.items
                .iter()
                .map(|item| item.to_account.to_string())
                .collect()
        })
        .unwrap_or_default();
    let expect = Expect::Answer {
        to_accounts,
        absent: Vec::new(),
    };
    let rules = Rules {
        strict: false,
        latency_budget: Duration::MAX,
        one_url: false,
    };
    let mut connection: Option<Connection> = None;
    let mut signed: Option<(u64, String)> = None;
    loop {
        let index = shared.next.fetch_add(1, Ordering::Relaxed);
        if index >= shared.total {
            return;
        }
        let due = shared.start + Duration::from_nanos((index as f64 * shared.interval_ns) as u64);
        // Latency counts from the scheduled time when this sender is behind
        // (the endpoint's backlog), but from the actual send when it slept
        // until then: the timer wakes up to 1 ms late, which is not the
        // endpoint's.
        let start = if Instant::now() < due {
            tokio::time::sleep_until(due).await;
            Instant::now()
        } else {
            due
        };
        let now = unix_now();
        let query = match &signed {
            Some((time, query)) if *time == now => query.clone(),
            _ => {
                let mut builder = QueryBuilder::new(target.app_id());
                if let Some(token) = target.token() {
                    builder = builder.signed(token.expose(), now);
                }
                let query = builder.build();
                signed = Some((now, query.clone()));
                query
            }
        };
        if connection.as_ref().map_or(true, Connection::is_closed) {
            connection = match endpoint.connect().await {
                Ok(opened) => Some(opened),
                Err(reason) => {
                    record_error(shared, reason);
                    progress.inc(1);
                    continue;
                }
            };
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let answer = open
            .send(
                endpoint,
                friendgate_core::conformance::Method::Post,
                &query,
                SAMPLE_BODY.as_bytes(),
                timeout,
            )
            .await;
        let latency = start.elapsed();
        match answer {
            Ok(answer) => {
                let observed = Observed {
                    status: answer.status,
                    body: &answer.body,
                    elapsed: answer.elapsed,
                };
                let verdict = judge(&expect, Ok(observed), &rules);
                if let Some(problem) = verdict.problem {
                    record_error(shared, format!("{}: {problem}", verdict.got));
                } else if latency > PLATFORM_WAIT {
                    shared.over.fetch_add(1, Ordering::Relaxed);
                } else {
                    shared.ok.fetch_add(1, Ordering::Relaxed);
                }
                if let Ok(mut guard) = shared.histogram.lock() {
                    if let Some(histogram) = guard.as_mut() {
                        let _ = histogram.record(
                            u64::try_from(latency.as_micros())
                                .unwrap_or(u64::MAX)
                                .max(1),
                        );
                    }
                }
            }
            Err(no_answer) => {
                connection = None;
                record_error(shared, format!("{no_answer:?}"));
            }
        }
        progress.inc(1);
    }
}

fn record_error(shared: &Shared, kind: String) {
    if let Ok(mut errors) = shared.errors.lock() {
        if let Some((_, count)) = errors.iter_mut().find(|(known, _)| *known == kind) {
            *count += 1;
        } else if errors.len() < 200 {
            errors.push((kind, 1));
        }
    }
}
