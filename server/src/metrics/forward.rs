//! The metrics of the one URL's other commands: callbacks by command,
//! upstream, status and error; the time an upstream took; forwards in flight.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

/// Labels of `friendgate_other_commands_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct OtherCommandLabels {
    /// The command if the documentation lists it, else `other`.
    pub(crate) command: &'static str,
    /// The route's command pattern (`C2C.*`, `*`), or `none` (answered here).
    pub(crate) upstream: String,
    /// The HTTP status sent back.
    pub(crate) status: u16,
    /// Core's error code, or `none`.
    pub(crate) error: &'static str,
}

/// The forwarding metrics.
#[derive(Debug, Clone)]
pub struct ForwardMetrics {
    pub(crate) other_commands: Family<OtherCommandLabels, Counter>,
    pub(crate) latency: Histogram,
    pub(crate) in_flight: Gauge,
}

impl ForwardMetrics {
    /// The forwarding metrics, registered in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let forward = Self {
            other_commands: Family::default(),
            // 50 µs to about 1.6 s.
            latency: Histogram::new(exponential_buckets(0.000_05, 2.0, 16)),
            in_flight: Gauge::default(),
        };
        registry.register(
            "friendgate_forwarding",
            "Callbacks of other commands in flight to an upstream (at most half of max_in_flight)",
            forward.in_flight.clone(),
        );
        registry.register(
            "friendgate_other_commands",
            "Authenticated callbacks of other commands, by command, upstream, status and error",
            forward.other_commands.clone(),
        );
        registry.register(
            "friendgate_forward_duration_seconds",
            "Time from a forwarded callback's arrival to the upstream's answer passed on",
            forward.latency.clone(),
        );
        forward
    }
}
