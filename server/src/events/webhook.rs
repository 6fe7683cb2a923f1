//! The webhook sink: batches of events POSTed to the app backend, signed as
//! the Standard Webhooks specification signs (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256>` of
//! `id.timestamp.body` with the `whsec_` secret), retried with backoff and
//! jitter under the same id, so that the receiver can drop a repeat.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use hyper::Uri;
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::{mpsc, watch};

use super::{backoff, next_batch, Emitted, EventBus};
use crate::config::files::SettingsError;
use crate::config::secret::{read_secret, SecretSource};
use crate::upstream::Forwarder;

/// `[events.webhook]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookSection {
    url: String,
    secret: SecretSource,
    #[serde(default = "default_batch_events")]
    batch_max_events: usize,
    #[serde(default = "default_batch_ms")]
    batch_max_ms: u64,
    #[serde(default = "default_timeout_ms")]
    timeout_ms: u64,
    #[serde(default = "default_attempts")]
    max_attempts: u32,
}

fn default_batch_events() -> usize {
    100
}
fn default_batch_ms() -> u64 {
    200
}
fn default_timeout_ms() -> u64 {
    5000
}
fn default_attempts() -> u32 {
    8
}

/// Validated `[events.webhook]`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSettings {
    /// Where batches go.
    pub url: Uri,
    key: Vec<u8>,
    /// Events in one POST at most.
    pub batch_max_events: usize,
    /// Time the first event of a batch waits for more.
    pub batch_wait: Duration,
    /// Time one POST may take.
    pub timeout: Duration,
    /// Deliveries of one batch before it is given up (and counted).
    pub max_attempts: u32,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &crate::config::redact::url(&self.url.to_string()))
            .field("batch_max_events", &self.batch_max_events)
            .finish_non_exhaustive()
    }
}

/// The prefix of a Standard Webhooks secret.
const SECRET_PREFIX: &str = "whsec_";

impl WebhookSettings {
    pub(crate) fn build(
        path: &Path,
        base: &Path,
        section: WebhookSection,
    ) -> Result<Self, SettingsError> {
        let err = |key: &str, reason: String| {
            SettingsError::new(path, format!("events.webhook.{key}"), reason)
        };
        if let Some(why) = crate::config::redact::credentials_or_fragment(&section.url) {
            return Err(err(
                "url",
                format!("`{}` {why}", crate::config::redact::url(&section.url)),
            ));
        }
        let url: Uri = section
            .url
            .parse()
            .ok()
            .filter(|u: &Uri| {
                matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some()
            })
            .ok_or_else(|| {
                err(
                    "url",
                    format!(
                        "`{}` is not an http:// or https:// URL",
                        crate::config::redact::url(&section.url)
                    ),
                )
            })?;
        let secret = read_secret(path, base, "events.webhook.secret", &section.secret)?;
        let key = secret
            .strip_prefix(SECRET_PREFIX)
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .filter(|key| key.len() >= 24)
            .ok_or_else(|| {
                err(
                    "secret",
                    "must be a Standard Webhooks secret: `whsec_` and the base64 of at least 24 random bytes (the value is not shown)".to_owned(),
                )
            })?;
        if !(1..=10_000).contains(&section.batch_max_events) {
            return Err(err(
                "batch_max_events",
                "must be between 1 and 10000".to_owned(),
            ));
        }
        if section.batch_max_ms > 60_000 {
            return Err(err("batch_max_ms", "must be at most 60000".to_owned()));
        }
        if !(100..=60_000).contains(&section.timeout_ms) {
            return Err(err(
                "timeout_ms",
                "must be between 100 and 60000".to_owned(),
            ));
        }
        if section.max_attempts == 0 {
            return Err(err("max_attempts", "must be at least 1".to_owned()));
        }
        Ok(Self {
            url,
            key,
            batch_max_events: section.batch_max_events,
            batch_wait: Duration::from_millis(section.batch_max_ms),
            timeout: Duration::from_millis(section.timeout_ms),
            max_attempts: section.max_attempts,
        })
    }

    /// `v1,<base64 signature>` of `body` sent as `id` at `timestamp`.
    pub(crate) fn signature(&self, id: &str, timestamp: u64, body: &[u8]) -> String {
        // An HMAC takes a key of any length: this cannot fail.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => return String::new(),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        let tag = mac.finalize().into_bytes();
        format!(
            "v1,{}",
            base64::engine::general_purpose::STANDARD.encode(tag)
        )
    }
}

/// The body of one POST: the batch's events, each as it was written once.
fn payload(batch: &[Arc<Emitted>]) -> Vec<u8> {
    let timestamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let mut body = Vec::with_capacity(96 + batch.iter().map(|e| e.json().len() + 1).sum::<usize>());
    body.extend_from_slice(b"{\"type\":\"");
    body.extend_from_slice(PAYLOAD_TYPE.as_bytes());
    body.extend_from_slice(b"\",\"timestamp\":\"");
    body.extend_from_slice(timestamp.as_bytes());
    body.extend_from_slice(b"\",\"data\":{\"events\":[");
    for (index, event) in batch.iter().enumerate() {
        if index > 0 {
            body.push(b',');
        }
        body.extend_from_slice(event.json().as_bytes());
    }
    body.extend_from_slice(b"]}}");
    body
}

/// The `type` of every POST.
pub const PAYLOAD_TYPE: &str = "friendgate.friend_responses";

/// Delivers batches until the queue closes or `stop` says so; then what is
/// queued is delivered until the deadline `stop` carries, and the rest is
/// counted as dropped.
pub(crate) async fn run(
    settings: WebhookSettings,
    mut queue: mpsc::Receiver<Arc<Emitted>>,
    client: Forwarder,
    bus: Arc<EventBus>,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    let mut batches = 0u64;
    while let Some(batch) = next_batch(
        &mut queue,
        &mut stop,
        settings.batch_max_events,
        settings.batch_wait,
    )
    .await
    {
        batches += 1;
        let id = format!(
            "msg_{}_{batches}",
            batch[0].event.id.trim_start_matches("evt_")
        );
        deliver(&settings, &client, &bus, &id, &batch, &mut stop).await;
    }
}

/// POSTs one batch, again after each failure, until it is taken, it has
/// had `max_attempts`, or the shutdown deadline passes.
async fn deliver(
    settings: &WebhookSettings,
    client: &Forwarder,
    bus: &EventBus,
    id: &str,
    batch: &[Arc<Emitted>],
    stop: &mut watch::Receiver<Option<Instant>>,
) {
    let body = Bytes::from(payload(batch));
    let metrics = bus.metrics();
    for attempt in 0..settings.max_attempts {
        let deadline = *stop.borrow();
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let timestamp = crate::clock::unix_ms() / 1000;
        let headers = [
            ("webhook-id", id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                settings.signature(id, timestamp, &body),
            ),
        ];
        let timeout = deadline.map_or(settings.timeout, |d| {
            settings
                .timeout
                .min(d.saturating_duration_since(Instant::now()))
        });
        let started = Instant::now();
        match client
            .post_json(&settings.url, &headers, body.clone(), timeout)
            .await
        {
            Ok(status) if status.is_success() => {
                metrics.delivered("webhook", batch.len(), started.elapsed());
                return;
            }
            Ok(status) => {
                metrics.failed("webhook");
                tracing::warn!(target: "friendgate::events", sink = "webhook", id, attempt, status = status.as_u16(), "webhook refused a batch; retrying");
            }
            Err(error) => {
                metrics.failed("webhook");
                tracing::warn!(target: "friendgate::events", sink = "webhook", id, attempt, %error, "webhook delivery failed; retrying");
            }
        }
        if attempt + 1 < settings.max_attempts {
            let wait = backoff(attempt, Duration::from_millis(200), Duration::from_secs(30));
            // A shutdown cuts a wait short (the deadline then bounds the rest).
            let _ = tokio::time::timeout(wait, stop.changed()).await;
        }
    }
    bus.dropped("webhook", batch.len() as u64, "delivery given up");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_standard_webhooks_example() {
        // The example of the specification's reference libraries:
        // secret `whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw`, id
        // `msg_p5jXN8AQM9LWM0D4loKWxJek`, timestamp 1614265330, payload
        // `{"test": 2432232314}`.
        let settings = WebhookSettings {
            url: Uri::from_static("http://127.0.0.1/"),
            key: base64::engine::general_purpose::STANDARD
                .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
                .unwrap(),
            batch_max_events: 1,
            batch_wait: Duration::ZERO,
            timeout: Duration::from_secs(1),
            max_attempts: 1,
        };
        assert_eq!(
            settings.signature(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
