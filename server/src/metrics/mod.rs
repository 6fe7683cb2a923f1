//! Prometheus metrics: callbacks by outcome and error code, item decisions by
//! rule, latency, callbacks in flight, reloads.

pub mod connections;
pub mod events;
pub mod forward;
pub mod redis;

pub use connections::ConnectionMetrics;
pub use events::EventMetrics;
pub use forward::ForwardMetrics;
use forward::OtherCommandLabels;
pub use redis::RedisMetrics;

pub use crate::decided::{Slot, DECIDER_ERROR_RULE, DEFAULT_RULE, EMBEDDED_RULE};
use connections::LimitedLabels;

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;

use crate::decided::Command;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of `friendgate_callbacks_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallbackLabels {
    /// `ok` or `fail`.
    outcome: &'static str,
    /// Core's error code, or `none`.
    error: &'static str,
    /// The friend command answered, or `unknown` for a request refused
    /// before its command was established (authentication, transport).
    command: &'static str,
}

/// Labels of `friendgate_decisions_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    /// The rule that decided, or `default`.
    rule: String,
    /// `allow` or `reject`.
    decision: &'static str,
    /// The friend command of the item.
    command: &'static str,
}

/// Labels of `friendgate_reloads_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReloadLabels {
    /// `ok` or `error`.
    result: &'static str,
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
    forward: ForwardMetrics,
    in_flight: Gauge,
    awaiting_body: Gauge,
    /// `notAfter` of the served TLS certificate, Unix seconds.
    tls_not_after: Gauge,
    /// `friendgate_callbacks_total{outcome="ok"}` per command (in
    /// [`Command::ALL`] order), fetched once.
    ok: [Counter; 2],
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
        let tls_not_after = Gauge::default();
        let forward = ForwardMetrics::register(&mut registry);
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
            "friendgate_tls_certificate_not_after_seconds",
            "When the callback listener's TLS certificate expires, Unix seconds (0 without TLS)",
            tls_not_after.clone(),
        );
        registry.register(
            "friendgate_in_flight",
            "Callbacks being handled now",
            in_flight.clone(),
        );
        let redis = RedisMetrics::register(&mut registry);
        let events = EventMetrics::register(&mut registry);
        let ok = Command::ALL.map(|command| {
            callbacks
                .get_or_create(&CallbackLabels {
                    outcome: "ok",
                    error: "none",
                    command: command.wire(),
                })
                .clone()
        });
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
            forward,
            in_flight,
            awaiting_body,
            tls_not_after,
            ok,
        }
    }

    /// Counters of items of `command` for the policy's rules named
    /// `rules`, in order, and for the named slots.
    pub fn decision_counters<'a>(
        &self,
        command: Command,
        rules: impl IntoIterator<Item = &'a str>,
    ) -> DecisionCounters {
        let pair = |rule: &str| {
            [true, false].map(|allowed| {
                let labels = DecisionLabels {
                    rule: rule.to_owned(),
                    decision: if allowed { "allow" } else { "reject" },
                    command: command.wire(),
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

    /// Counts one answered callback of `command` (`None`: refused before
    /// its command was established).
    pub fn callback(&self, command: Option<Command>, error: Option<&'static str>) {
        match (error, command) {
            (None, Some(command)) => self.ok[command.index()].inc(),
            (error, command) => self
                .callbacks
                .get_or_create(&CallbackLabels {
                    outcome: if error.is_some() { "fail" } else { "ok" },
                    error: error.unwrap_or("none"),
                    command: command.map_or("unknown", Command::wire),
                })
                .inc(),
        };
    }

    /// Records the served TLS certificate's `notAfter` (Unix seconds).
    pub fn tls_not_after(&self, seconds: i64) {
        self.tls_not_after.set(seconds);
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
        self.forward
            .other_commands
            .get_or_create(&OtherCommandLabels {
                command,
                upstream: upstream.unwrap_or("none").to_owned(),
                status,
                error: error.unwrap_or("none"),
            })
            .inc();
        if upstream.is_some() {
            self.forward.latency.observe(seconds);
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
        &self.forward.in_flight
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
