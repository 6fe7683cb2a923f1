//! Prometheus metrics: callbacks by outcome and error code, item decisions by
//! rule, latency, callbacks in flight, reloads.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Labels of `friendgate_callbacks_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallbackLabels {
    /// `ok` or `fail`.
    outcome: &'static str,
    /// Core's error code, or `none`.
    error: &'static str,
}

/// Labels of `friendgate_decisions_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    /// The rule that decided, or `default`.
    rule: String,
    /// `allow` or `reject`.
    decision: &'static str,
}

/// Labels of `friendgate_other_commands_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OtherCommandLabels {
    /// The command if the documentation lists it, else `other`.
    command: &'static str,
    /// The route's command pattern (`C2C.*`, `*`), or `none` (answered here).
    upstream: String,
    /// The HTTP status sent back.
    status: u16,
    /// Core's error code, or `none`.
    error: &'static str,
}

/// Labels of `friendgate_reloads_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    /// `ok` or `error`.
    result: &'static str,
}

/// Labels of `friendgate_connections_limited_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LimitedLabels {
    /// `evicted` (an idle connection closed to make room) or `refused`.
    action: &'static str,
}

/// Labels of `friendgate_redis_round_trip_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RedisOpLabels {
    /// `limits` (a callback's one script call), `set` (a snapshot read) or
    /// `ping`.
    op: &'static str,
}

/// Labels of `friendgate_redis_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RedisErrorLabels {
    op: &'static str,
    /// `timeout` or `error`.
    kind: &'static str,
}

/// Labels of `friendgate_redis_fallbacks_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FallbackLabels {
    rule: String,
    /// The rule's `on_redis_error`: `allow`, `reject` or `local`.
    policy: &'static str,
}

/// The Redis metrics of `[state]`.
#[derive(Debug, Clone)]
pub struct RedisMetrics {
    round_trip: Family<RedisOpLabels, Histogram, fn() -> Histogram>,
    errors: Family<RedisErrorLabels, Counter>,
    fallbacks: Family<FallbackLabels, Counter>,
    up: Gauge,
}

impl RedisMetrics {
    /// Times one round trip of `op` that got an answer.
    pub fn round_trip(&self, op: &'static str, seconds: f64) {
        self.round_trip
            .get_or_create(&RedisOpLabels { op })
            .observe(seconds);
    }

    /// Counts a failed call of `op` (`timeout` or `error`).
    pub fn error(&self, op: &'static str, kind: &'static str) {
        self.errors
            .get_or_create(&RedisErrorLabels { op, kind })
            .inc();
    }

    /// The counter of items a rule decided by its `on_redis_error`.
    pub fn fallback(&self, rule: &str, policy: &'static str) -> Counter {
        self.fallbacks
            .get_or_create(&FallbackLabels {
                rule: rule.to_owned(),
                policy,
            })
            .clone()
    }

    /// Sets whether Redis answers.
    pub fn set_up(&self, up: bool) {
        self.up.set(i64::from(up));
    }
}

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

/// Buckets of the Redis round trip: 100 µs to about 0.8 s.
fn redis_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 14))
}

/// The gateway's metrics.
#[derive(Debug)]
pub struct Metrics {
    redis: RedisMetrics,
    events: EventMetrics,
    registry: Registry,
    connections: Gauge,
    limited: Family<LimitedLabels, Counter>,
    log_lines_dropped: Counter,
    callbacks: Family<CallbackLabels, Counter>,
    decisions: Family<DecisionLabels, Counter>,
    reloads: Family<ReloadLabels, Counter>,
    latency: Histogram,
    other_commands: Family<OtherCommandLabels, Counter>,
    forward_latency: Histogram,
    in_flight: Gauge,
    awaiting_body: Gauge,
    forwarding: Gauge,
    ok: Counter,
}

/// What one listener's accept loop counts (see
/// [`Metrics::connection_metrics`]).
#[derive(Debug, Clone)]
pub struct ConnectionMetrics {
    open: Option<Gauge>,
    limited: Family<LimitedLabels, Counter>,
    latency: Option<Histogram>,
}

impl ConnectionMetrics {
    /// Sets the open-connections gauge (the callback listener's only).
    pub(crate) fn set_open(&self, open: usize) {
        if let Some(gauge) = &self.open {
            gauge.set(i64::try_from(open).unwrap_or(i64::MAX));
        }
    }

    /// Counts a connection closed at `max_connections`.
    pub(crate) fn limited(&self, action: &'static str) {
        self.limited.get_or_create(&LimitedLabels { action }).inc();
    }

    /// The answer-latency histogram its connections observe, if any.
    pub(crate) fn latency(&self) -> Option<&Histogram> {
        self.latency.as_ref()
    }
}

/// The rule name of items no rule decided.
pub const DEFAULT_RULE: &str = "default";

/// The rule name of decisions made by an embedded [`Decider`](friendgate_core::Decider).
pub const EMBEDDED_RULE: &str = "decider";

/// The rule name of items whose decision failed (the failure policy decided).
pub const DECIDER_ERROR_RULE: &str = "decider_error";

/// Who decided an item, for its decision counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The policy's rule at this position.
    Rule(usize),
    /// No rule matched ([`DEFAULT_RULE`]).
    Default,
    /// The embedded decider ([`EMBEDDED_RULE`]).
    Decider,
    /// The decision failed ([`DECIDER_ERROR_RULE`]).
    DeciderError,
}

/// An allow and a reject counter.
type Pair = [Counter; 2];

/// Decision counters of one configuration, fetched once per (re)load so
/// that counting an item takes no lock or allocation.
#[derive(Debug, Clone, Default)]
pub struct DecisionCounters {
    rules: Vec<Pair>,
    default: Pair,
    decider: Pair,
    decider_error: Pair,
}

impl DecisionCounters {
    /// Counts an item decided in `slot`.
    pub fn count(&self, slot: Slot, allowed: bool) {
        let pair = match slot {
            Slot::Rule(index) => match self.rules.get(index) {
                Some(pair) => pair,
                None => return,
            },
            Slot::Default => &self.default,
            Slot::Decider => &self.decider,
            Slot::DeciderError => &self.decider_error,
        };
        pair[usize::from(!allowed)].inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let callbacks = Family::<CallbackLabels, Counter>::default();
        let decisions = Family::<DecisionLabels, Counter>::default();
        let reloads = Family::<ReloadLabels, Counter>::default();
        // 50 µs to about 1.6 s.
        let latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        let in_flight = Gauge::default();
        let awaiting_body = Gauge::default();
        let forwarding = Gauge::default();
        registry.register(
            "friendgate_forwarding",
            "Callbacks of other commands in flight to an upstream (at most half of max_in_flight)",
            forwarding.clone(),
        );
        let other_commands = Family::<OtherCommandLabels, Counter>::default();
        let forward_latency = Histogram::new(exponential_buckets(0.000_05, 2.0, 16));
        registry.register(
            "friendgate_other_commands",
            "Authenticated callbacks of other commands, by command, upstream, status and error",
            other_commands.clone(),
        );
        registry.register(
            "friendgate_forward_duration_seconds",
            "Time from a forwarded callback's arrival to the upstream's answer passed on",
            forward_latency.clone(),
        );
        registry.register(
            "friendgate_awaiting_body",
            "Callbacks in flight waiting for body bytes that did not come with their headers",
            awaiting_body.clone(),
        );
        let connections = Gauge::default();
        let limited = Family::<LimitedLabels, Counter>::default();
        let log_lines_dropped = Counter::default();
        registry.register(
            "friendgate_connections",
            "Connections open on the callback listener",
            connections.clone(),
        );
        registry.register(
            "friendgate_connections_limited",
            "Connections closed at max_connections, by action",
            limited.clone(),
        );
        registry.register(
            "friendgate_log_lines_dropped",
            "Log lines dropped because the reader of standard output fell behind",
            log_lines_dropped.clone(),
        );
        registry.register(
            "friendgate_callbacks",
            "Callbacks answered, by outcome and error code",
            callbacks.clone(),
        );
        registry.register(
            "friendgate_decisions",
            "Items decided, by rule and decision",
            decisions.clone(),
        );
        registry.register(
            "friendgate_reloads",
            "Configuration reloads, by result",
            reloads.clone(),
        );
        registry.register(
            "friendgate_callback_duration_seconds",
            "Time a client waited for a callback's answer: from the first byte of its request read to the answer written",
            latency.clone(),
        );
        registry.register(
            "friendgate_in_flight",
            "Callbacks being handled now",
            in_flight.clone(),
        );
        let redis = RedisMetrics {
            round_trip: Family::new_with_constructor(redis_buckets as fn() -> Histogram),
            errors: Family::default(),
            fallbacks: Family::default(),
            up: Gauge::default(),
        };
        registry.register(
            "friendgate_redis_round_trip_seconds",
            "Redis round trips of [state] that got an answer, by operation",
            redis.round_trip.clone(),
        );
        registry.register(
            "friendgate_redis_errors",
            "Redis calls of [state] that failed, by operation and kind",
            redis.errors.clone(),
        );
        registry.register(
            "friendgate_redis_fallbacks",
            "Items a rule decided by its on_redis_error because Redis failed, by rule and policy",
            redis.fallbacks.clone(),
        );
        registry.register(
            "friendgate_redis_up",
            "1 while Redis answers [state]'s calls, 0 when it does not (or is not configured)",
            redis.up.clone(),
        );
        let events = EventMetrics {
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
        let ok = callbacks
            .get_or_create(&CallbackLabels {
                outcome: "ok",
                error: "none",
            })
            .clone();
        Self {
            redis,
            events,
            registry,
            connections,
            limited,
            log_lines_dropped,
            callbacks,
            decisions,
            reloads,
            latency,
            other_commands,
            forward_latency,
            in_flight,
            awaiting_body,
            forwarding,
            ok,
        }
    }

    /// Counters for the policy's rules named `rules`, in order, and for the
    /// named slots.
    pub fn decision_counters<'a>(
        &self,
        rules: impl IntoIterator<Item = &'a str>,
    ) -> DecisionCounters {
        let pair = |rule: &str| {
            [true, false].map(|allowed| {
                let labels = DecisionLabels {
                    rule: rule.to_owned(),
                    decision: if allowed { "allow" } else { "reject" },
                };
                self.decisions.get_or_create(&labels).clone()
            })
        };
        DecisionCounters {
            rules: rules.into_iter().map(pair).collect(),
            default: pair(DEFAULT_RULE),
            decider: pair(EMBEDDED_RULE),
            decider_error: pair(DECIDER_ERROR_RULE),
        }
    }

    /// Counts one answered callback.
    pub fn callback(&self, error: Option<&'static str>) {
        match error {
            None => self.ok.inc(),
            Some(error) => self
                .callbacks
                .get_or_create(&CallbackLabels {
                    outcome: "fail",
                    error,
                })
                .inc(),
        };
    }

    /// The answer-latency histogram, observed by the callback listener's
    /// connections when an answer is written (see `crate::http::idle`).
    pub fn latency(&self) -> &Histogram {
        &self.latency
    }

    /// Counts one callback of another command: `upstream` is the route's
    /// pattern (`None`: answered by the gateway itself).
    pub fn other_command(
        &self,
        command: &'static str,
        upstream: Option<&str>,
        status: u16,
        error: Option<&'static str>,
        seconds: f64,
    ) {
        self.other_commands
            .get_or_create(&OtherCommandLabels {
                command,
                upstream: upstream.unwrap_or("none").to_owned(),
                status,
                error: error.unwrap_or("none"),
            })
            .inc();
        if upstream.is_some() {
            self.forward_latency.observe(seconds);
        }
    }

    /// Counts one reload.
    pub fn reload(&self, ok: bool) {
        let result = if ok { "ok" } else { "error" };
        self.reloads.get_or_create(&ReloadLabels { result }).inc();
    }

    /// The open-connections gauge.
    pub fn connections(&self) -> &Gauge {
        &self.connections
    }

    /// The handles a listener's accept loop counts in: open connections and
    /// answer latency for the callback listener (`callbacks`), connections
    /// closed at `max_connections` for both.
    pub fn connection_metrics(&self, callbacks: bool) -> ConnectionMetrics {
        ConnectionMetrics {
            open: callbacks.then(|| self.connections.clone()),
            limited: self.limited.clone(),
            latency: callbacks.then(|| self.latency.clone()),
        }
    }

    /// Counts a connection closed at `max_connections` (`evicted` or `refused`).
    pub fn connection_limited(&self, action: &'static str) {
        self.limited.get_or_create(&LimitedLabels { action }).inc();
    }

    /// The counter of dropped log lines, for the log writer.
    pub fn log_lines_dropped(&self) -> Counter {
        self.log_lines_dropped.clone()
    }

    /// The gauge of callbacks waiting for their body.
    pub fn awaiting_body(&self) -> &Gauge {
        &self.awaiting_body
    }

    /// The gauge of callbacks in flight to an upstream.
    pub fn forwarding(&self) -> &Gauge {
        &self.forwarding
    }

    /// The event metrics.
    pub fn events(&self) -> &EventMetrics {
        &self.events
    }

    /// The Redis metrics.
    pub fn redis(&self) -> &RedisMetrics {
        &self.redis
    }

    /// The in-flight gauge.
    pub fn in_flight(&self) -> &Gauge {
        &self.in_flight
    }

    /// The OpenMetrics text exposition (see [`crate::admin::OPENMETRICS`]).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
