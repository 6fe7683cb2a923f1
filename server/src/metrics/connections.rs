//! What a listener's accept loop counts: open connections, connections
//! closed at `max_connections`, and the answer latency its clients see.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;

/// Labels of `friendgate_connections_limited_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(crate) struct LimitedLabels {
    /// `evicted` (an idle connection closed to make room) or `refused`.
    pub(crate) action: &'static str,
}

/// What one listener's accept loop counts (see
/// [`Metrics::connection_metrics`]).
#[derive(Debug, Clone)]
pub struct ConnectionMetrics {
    pub(crate) open: Option<Gauge>,
    pub(crate) limited: Family<LimitedLabels, Counter>,
    pub(crate) latency: Option<Histogram>,
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
