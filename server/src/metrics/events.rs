//! The metrics of `[events]` and the live stream: events by sink and
//! outcome, delivery failures and time, live readers.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::metrics::redis::redis_buckets;

/// Labels of the event metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabels {
    /// `webhook`.
    sink: &'static str,
}

/// Labels of `friendgate_events_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    sink: &'static str,
    /// `queued`, `delivered` or `dropped`.
    outcome: &'static str,
}

/// The metrics of `[events]`.
#[derive(Debug, Clone)]
pub struct EventMetrics {
    events: Family<EventLabels, Counter>,
    failures: Family<SinkLabels, Counter>,
    delivery: Family<SinkLabels, Histogram, fn() -> Histogram>,
    /// The second a drop was last logged (drops are logged once a second).
    last_logged: Arc<AtomicU64>,
    live_readers: Gauge,
    live_reader_outcomes: Family<OutcomeLabels, Counter>,
}

/// Labels of `friendgate_live_readers_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    /// `admitted`, `refused` (past `admin.live_readers`) or `dropped`
    /// (fell behind).
    outcome: &'static str,
}

impl EventMetrics {
    /// Counts `count` events `sink` delivered in one call of `took`.
    pub fn delivered(&self, sink: &'static str, count: usize, took: std::time::Duration) {
        self.events
            .get_or_create(&EventLabels {
                sink,
                outcome: "delivered",
            })
            .inc_by(count as u64);
        self.delivery
            .get_or_create(&SinkLabels { sink })
            .observe(took.as_secs_f64());
    }

    /// Counts a failed delivery attempt of `sink`.
    pub fn failed(&self, sink: &'static str) {
        self.failures.get_or_create(&SinkLabels { sink }).inc();
    }

    /// Counts `count` events `sink` dropped; true when the drop should be
    /// logged (the first in a second).
    pub fn dropped(&self, sink: &'static str, count: u64) -> bool {
        self.events
            .get_or_create(&EventLabels {
                sink,
                outcome: "dropped",
            })
            .inc_by(count);
        self.log_drop_now()
    }

    /// Whether a drop should be logged now (the first in a second).
    pub fn log_drop_now(&self) -> bool {
        let now = crate::clock::unix_ms() / 1000;
        self.last_logged.swap(now, Ordering::Relaxed) != now
    }

    /// The `queued` and `dropped` counters of `sink`, fetched once so that
    /// counting an event takes no lock.
    pub fn sink_counters(&self, sink: &'static str) -> [Counter; 2] {
        ["queued", "dropped"].map(|outcome| {
            self.events
                .get_or_create(&EventLabels { sink, outcome })
                .clone()
        })
    }

    /// Readers of the live stream now (also the count their bound is
    /// checked against).
    pub fn live_readers(&self) -> &Gauge {
        &self.live_readers
    }

    /// Counts a reader of the live stream `admitted`, `refused` or
    /// `dropped`.
    pub fn live_reader(&self, outcome: &'static str) {
        self.live_reader_outcomes
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// Events `sink` dropped so far.
    pub fn dropped_total(&self, sink: &'static str) -> u64 {
        self.events
            .get_or_create(&EventLabels {
                sink,
                outcome: "dropped",
            })
            .get()
    }
}

impl EventMetrics {
    /// The event metrics, registered in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let events = Self {
            events: Family::default(),
            failures: Family::default(),
            delivery: Family::new_with_constructor(redis_buckets as fn() -> Histogram),
            last_logged: Arc::default(),
            live_readers: Gauge::default(),
            live_reader_outcomes: Family::default(),
        };
        registry.register(
            "friendgate_live_readers_connected",
            "Readers of the admin listener's live stream (/events) now",
            events.live_readers.clone(),
        );
        registry.register(
            "friendgate_live_readers",
            "Readers of the live stream: admitted, refused (past admin.live_readers), dropped (fell behind; connection closed)",
            events.live_reader_outcomes.clone(),
        );
        registry.register(
            "friendgate_events",
            "Events of answered callbacks, by sink and outcome (queued, delivered, dropped)",
            events.events.clone(),
        );
        registry.register(
            "friendgate_event_delivery_failures",
            "Failed delivery attempts of event batches, by sink (each is retried)",
            events.failures.clone(),
        );
        registry.register(
            "friendgate_event_delivery_seconds",
            "Time a sink took to take one batch of events",
            events.delivery.clone(),
        );
        events
    }
}
