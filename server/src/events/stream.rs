//! The Redis Stream sink: each event `XADD`ed to a stream of `[state]`'s
//! Redis (field `event`, the event's JSON), trimmed to about `max_len`
//! entries (`MAXLEN ~`), for consumers that read with consumer groups.
//! Events are sent in pipelined batches; a batch that fails is tried again
//! with backoff, then dropped and counted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use fred::clients::Client;
use fred::interfaces::StreamsInterface;
use serde::Deserialize;
use tokio::sync::{mpsc, watch};

use super::{backoff, next_batch, Emitted, EventBus};
use crate::config::files::SettingsError;

/// `[events.redis_stream]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StreamSection {
    key: String,
    #[serde(default = "default_max_len")]
    max_len: u64,
}

fn default_max_len() -> u64 {
    100_000
}

/// Validated `[events.redis_stream]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamSettings {
    /// The stream's key.
    pub key: String,
    /// Entries kept, about (`MAXLEN ~`).
    pub max_len: u64,
}

impl StreamSettings {
    pub(crate) fn build(
        path: &std::path::Path,
        section: StreamSection,
        has_state: bool,
    ) -> Result<Self, SettingsError> {
        let err = |key: &str, reason: &str| {
            SettingsError::new(path, format!("events.redis_stream.{key}"), reason)
        };
        if !has_state {
            return Err(err(
                "key",
                "needs a [state] section (the Redis to write the stream to)",
            ));
        }
        if section.key.is_empty() || section.key.contains(char::is_whitespace) {
            return Err(err("key", "must be a Redis key without spaces"));
        }
        if !(1..=100_000_000).contains(&section.max_len) {
            return Err(err("max_len", "must be between 1 and 100000000"));
        }
        Ok(Self {
            key: section.key,
            max_len: section.max_len,
        })
    }
}

/// Events sent in one pipeline at most.
const BATCH: usize = 256;

/// Tries of one batch before it is dropped.
const ATTEMPTS: u32 = 5;

/// Writes events until the queue closes, or until the deadline `stop`
/// carries once it is set.
pub(crate) async fn run(
    settings: StreamSettings,
    client: Client,
    mut queue: mpsc::Receiver<Arc<Emitted>>,
    bus: Arc<EventBus>,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    while let Some(batch) = next_batch(&mut queue, &mut stop, BATCH, Duration::ZERO).await {
        write(&settings, &client, &bus, &batch, &mut stop).await;
    }
}

async fn write(
    settings: &StreamSettings,
    client: &Client,
    bus: &EventBus,
    batch: &[Arc<Emitted>],
    stop: &mut watch::Receiver<Option<Instant>>,
) {
    let entries: Vec<&str> = batch.iter().map(|event| event.json()).collect();
    for attempt in 0..ATTEMPTS {
        let deadline = *stop.borrow();
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let started = Instant::now();
        let pipeline = client.pipeline();
        for entry in &entries {
            let cap = (
                "MAXLEN",
                "~",
                i64::try_from(settings.max_len).unwrap_or(i64::MAX),
                None,
            );
            let queued: Result<(), _> = pipeline
                .xadd(settings.key.as_str(), false, cap, "*", ("event", *entry))
                .await;
            if queued.is_err() {
                break;
            }
        }
        let sent = tokio::time::timeout(
            Duration::from_secs(5),
            pipeline.all::<Vec<fred::types::Value>>(),
        )
        .await;
        match sent {
            Ok(Ok(_)) => {
                bus.metrics()
                    .delivered("redis_stream", batch.len(), started.elapsed());
                return;
            }
            Ok(Err(error)) => {
                bus.metrics().failed("redis_stream");
                tracing::warn!(target: "friendgate::events", sink = "redis_stream", attempt, error = %error.details(), "XADD failed; retrying");
            }
            Err(_) => {
                bus.metrics().failed("redis_stream");
                tracing::warn!(target: "friendgate::events", sink = "redis_stream", attempt, "XADD got no answer within 5 s; retrying");
            }
        }
        if attempt + 1 < ATTEMPTS {
            let wait = backoff(attempt, Duration::from_millis(100), Duration::from_secs(5));
            let _ = tokio::time::timeout(wait, stop.changed()).await;
        }
    }
    bus.dropped("redis_stream", batch.len() as u64, "XADD given up");
}
