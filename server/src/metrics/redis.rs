//! The metrics of `[state]`: Redis round trips, errors, fallbacks, and
//! whether Redis answers.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

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

impl RedisMetrics {
    /// The Redis metrics, registered in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let redis = Self {
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
        redis
    }
}

/// Buckets of the Redis round trip: 100 µs to about 0.8 s.
pub(crate) fn redis_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_1, 2.0, 14))
}
