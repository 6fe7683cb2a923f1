//! Events: after its answer, each friend callback (a response or a request)
//! becomes one [`Event`], handed to the configured sinks (`[events]`): a webhook to the
//! app backend, a Redis Stream, and the admin listener's live stream.
//!
//! Handing an event over never waits: each sink has a bounded queue, and an
//! event that finds it full is dropped, counted
//! (`friendgate_events_dropped_total{sink}`) and logged at a bounded rate.
//! A slow or dead sink therefore costs no answer its time, and memory stays
//! bounded whatever the sinks do.

pub(crate) mod live;
pub(crate) mod stream;
pub(crate) mod webhook;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use crate::metrics::EventMetrics;
use prometheus_client::metrics::counter::Counter;

/// The version of the event's JSON shape (`schema/event.v1.json`).
pub const EVENT_VERSION: u32 = 1;

/// One friend callback, as answered.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Event {
    /// `friend_response` or `friend_request`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// [`EVENT_VERSION`].
    pub version: u32,
    /// Unique per event: the gateway's run and a counter.
    pub id: String,
    /// When the gateway answered, Unix milliseconds.
    pub answered_at_ms: u64,
    /// Time from the request's arrival to its answer, microseconds.
    pub latency_us: u64,
    /// `SdkAppid`.
    pub app_id: u64,
    /// `OptPlatform`, when the platform sent one.
    pub platform: Option<String>,
    /// `ClientIP`, when the platform sent one.
    pub client_ip: Option<String>,
    /// `Requester_Account`: who sent the friend request (a response), or
    /// who initiated it (a request).
    pub requester: String,
    /// `From_Account`: who responded (a response), or who asks (a request).
    pub from: String,
    /// `EventTime`, Unix milliseconds.
    pub event_time_ms: u64,
    /// `AddType` of a friend request (absent from a response's event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_type: Option<String>,
    /// `ForceAddFlags` of a friend request (absent from a response's event).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force_add_flags: Option<u64>,
    /// The HTTP status of the answer.
    pub status: u16,
    /// Core's error code when the answer was a FAIL, else `null`.
    pub error: Option<&'static str>,
    /// One entry per response item, in order.
    pub items: Vec<EventItem>,
}

/// One item of an [`Event`].
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct EventItem {
    /// `To_Account`.
    pub to: String,
    /// `ResponseAction`, as sent (a response's item only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// `AddWording` (a request's item only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_wording: Option<String>,
    /// `AddSource` (a request's item only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub add_source: Option<String>,
    /// `allow` or `reject`; `null` when the answer carried no item (a FAIL).
    pub decision: Option<&'static str>,
    /// The `ResultCode` answered; `null` as for `decision`.
    pub result_code: Option<u32>,
    /// The rule that decided (`default`, `decider`, `decider_error`, or a
    /// rule's name).
    pub rule: String,
}

/// An event as the sinks share it: its JSON is written once, by the first
/// sink that needs it, off the answer's path.
#[derive(Debug)]
pub struct Emitted {
    /// The event.
    pub event: Event,
    json: OnceLock<String>,
}

impl Emitted {
    /// The event's JSON (the shape of `schema/event.v1.json`).
    pub fn json(&self) -> &str {
        self.json
            .get_or_init(|| serde_json::to_string(&self.event).unwrap_or_default())
    }
}

/// Default of `events.queue_events`.
pub const DEFAULT_QUEUE_EVENTS: usize = 10_000;

/// `[events]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventsSection {
    #[serde(default = "default_queue")]
    queue_events: usize,
    #[serde(default)]
    webhook: Option<webhook::WebhookSection>,
    #[serde(default)]
    redis_stream: Option<stream::StreamSection>,
}

fn default_queue() -> usize {
    DEFAULT_QUEUE_EVENTS
}

/// Validated `[events]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventsSettings {
    /// Events each sink holds at most before it drops (and counts) more.
    pub queue_events: usize,
    /// The webhook to the app backend.
    pub webhook: Option<webhook::WebhookSettings>,
    /// The Redis Stream (needs `[state]`).
    pub redis_stream: Option<stream::StreamSettings>,
}

impl Default for EventsSettings {
    fn default() -> Self {
        Self {
            queue_events: DEFAULT_QUEUE_EVENTS,
            webhook: None,
            redis_stream: None,
        }
    }
}

impl EventsSettings {
    pub(crate) fn build(
        path: &std::path::Path,
        base: &std::path::Path,
        section: EventsSection,
        has_state: bool,
    ) -> Result<Self, crate::config::files::SettingsError> {
        if !(1..=1_000_000).contains(&section.queue_events) {
            return Err(crate::config::files::SettingsError::new(
                path,
                "events.queue_events",
                "must be between 1 and 1000000",
            ));
        }
        Ok(Self {
            queue_events: section.queue_events,
            webhook: section
                .webhook
                .map(|w| webhook::WebhookSettings::build(path, base, w))
                .transpose()?,
            redis_stream: section
                .redis_stream
                .map(|s| stream::StreamSettings::build(path, s, has_state))
                .transpose()?,
        })
    }
}

/// The live stream's aggregator lags behind by at most this many events
/// before it loses some (counted): it drains every [`LIVE_DRAIN`], so this
/// holds 20 ms of 400,000 callbacks a second.
const LIVE_CAPACITY: usize = 8192;

/// How often the aggregator takes what arrived (one wake-up for many
/// events, rather than one per event).
pub(crate) const LIVE_DRAIN: Duration = Duration::from_millis(20);

/// How often the aggregator sends the readers one message.
pub(crate) const LIVE_FLUSH: Duration = Duration::from_millis(100);

/// Events one message of the live stream carries in full at most; the rest
/// of the 100 ms are counted in it (`skipped`, and in `counts`), so that a
/// browser is never sent more than it can show.
pub(crate) const LIVE_EVENTS_PER_MESSAGE: usize = 200;

/// A sink's name, queue, and `queued` and `dropped` counters.
type Sink = (&'static str, mpsc::Sender<Arc<Emitted>>, [Counter; 2]);

/// Hands events to the sinks without ever waiting.
#[derive(Debug)]
pub struct EventBus {
    /// The run's prefix of event ids.
    run: String,
    next: AtomicU64,
    sinks: Vec<Sink>,
    /// Events for the live stream's aggregator (while it has readers).
    live: broadcast::Sender<Arc<Emitted>>,
    /// The readers of `/events`, to which the aggregator sends.
    readers: live::Readers,
    /// `admin.live_readers`.
    live_readers_max: usize,
    metrics: EventMetrics,
}

/// The receiving ends, for the sink tasks.
pub(crate) struct SinkQueues {
    pub(crate) webhook: Option<mpsc::Receiver<Arc<Emitted>>>,
    pub(crate) redis_stream: Option<mpsc::Receiver<Arc<Emitted>>>,
}

impl EventBus {
    /// A bus with a queue of `events.queue_events` for each sink
    /// `settings` configures, and the live stream for at most
    /// `live_readers` readers.
    pub(crate) fn new(
        settings: &EventsSettings,
        live_readers: usize,
        metrics: EventMetrics,
    ) -> (Self, SinkQueues) {
        let mut sinks = Vec::new();
        let mut queue = |name: &'static str, wanted: bool| {
            wanted.then(|| {
                let (send, receive) = mpsc::channel(settings.queue_events.max(1));
                sinks.push((name, send, metrics.sink_counters(name)));
                receive
            })
        };
        let queues = SinkQueues {
            webhook: queue("webhook", settings.webhook.is_some()),
            redis_stream: queue("redis_stream", settings.redis_stream.is_some()),
        };
        let (live, _) = broadcast::channel(LIVE_CAPACITY);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let bus = Self {
            run: format!(
                "{:x}{:04x}",
                nanos & 0xffff_ffff_ffff,
                std::process::id() & 0xffff
            ),
            next: AtomicU64::new(0),
            sinks,
            live,
            readers: live::Readers::default(),
            live_readers_max: live_readers,
            metrics,
        };
        (bus, queues)
    }

    /// Whether anything would receive an event now: building one is
    /// skipped otherwise.
    pub fn wanted(&self) -> bool {
        !self.sinks.is_empty() || self.has_live_readers()
    }

    /// A fresh event id.
    pub(crate) fn next_id(&self) -> String {
        format!(
            "evt_{}_{}",
            self.run,
            self.next.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Hands `event` to every sink; a full queue drops it, counted.
    pub fn emit(&self, event: Event) {
        let event = Arc::new(Emitted {
            event,
            json: OnceLock::new(),
        });
        for (name, sink, [queued, dropped]) in &self.sinks {
            let why = match sink.try_send(Arc::clone(&event)) {
                Ok(()) => {
                    queued.inc();
                    continue;
                }
                Err(mpsc::error::TrySendError::Full(_)) => "queue full",
                Err(mpsc::error::TrySendError::Closed(_)) => "sink stopped",
            };
            dropped.inc();
            if self.metrics.log_drop_now() {
                tracing::warn!(target: "friendgate::events", sink = name, why, dropped = dropped.get(), "events dropped");
            }
        }
        if self.has_live_readers() {
            let _ = self.live.send(event);
        }
    }

    /// The aggregator's input.
    pub(crate) fn live_events(&self) -> broadcast::Receiver<Arc<Emitted>> {
        self.live.subscribe()
    }

    fn has_live_readers(&self) -> bool {
        self.metrics.live_readers().get() > 0
    }

    /// The readers of the live stream.
    pub(crate) fn live_readers(&self) -> &live::Readers {
        &self.readers
    }

    /// `admin.live_readers`: readers past it are refused.
    pub(crate) fn live_readers_max(&self) -> usize {
        self.live_readers_max
    }

    /// Counts (and logs, at most once a second per sink) a dropped event.
    pub(crate) fn dropped(&self, sink: &'static str, count: u64, why: &'static str) {
        if self.metrics.dropped(sink, count) {
            tracing::warn!(target: "friendgate::events", sink, why, dropped = self.metrics.dropped_total(sink), "events dropped");
        }
    }

    /// The metrics.
    pub(crate) fn metrics(&self) -> &EventMetrics {
        &self.metrics
    }
}

/// The next batch of a sink: waits for a first event (or for `stop`), then
/// takes up to `max` events, waiting at most `wait` for more. Once `stop`
/// carries a deadline, takes only what is queued. `None` when the queue is
/// closed, or empty after `stop`.
pub(crate) async fn next_batch(
    queue: &mut mpsc::Receiver<Arc<Emitted>>,
    stop: &mut tokio::sync::watch::Receiver<Option<std::time::Instant>>,
    max: usize,
    wait: Duration,
) -> Option<Vec<Arc<Emitted>>> {
    let first = loop {
        if stop.borrow().is_some() {
            break queue.try_recv().ok()?;
        }
        tokio::select! {
            event = queue.recv() => break event?,
            // The gateway is gone: so is the queue's sender.
            changed = stop.changed() => changed.ok()?,
        }
    };
    let stopping = stop.borrow().is_some();
    let mut batch = vec![first];
    let until = tokio::time::Instant::now() + wait;
    while batch.len() < max {
        let next = match queue.try_recv() {
            Ok(event) => Some(event),
            Err(_) if stopping || wait.is_zero() => None,
            Err(_) => tokio::time::timeout_at(until, queue.recv())
                .await
                .ok()
                .flatten(),
        };
        match next {
            Some(event) => batch.push(event),
            None => break,
        }
    }
    Some(batch)
}

/// Time to wait between two deliveries of a failed batch: exponential from
/// `base`, at most `max`, with full jitter (a random share of the step) so
/// that replicas that failed together do not retry together.
pub(crate) fn backoff(attempt: u32, base: Duration, max: Duration) -> Duration {
    let step = base
        .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
        .min(max);
    // The clock's nanoseconds are jitter enough here.
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    step / 2 + step.mul_f64(f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_with_jitter() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(5);
        for attempt in 0..20 {
            let wait = backoff(attempt, base, max);
            let step = (base * 2u32.pow(attempt.min(16))).min(max);
            assert!(wait >= step / 2 && wait <= step, "{attempt}: {wait:?}");
        }
    }
}
