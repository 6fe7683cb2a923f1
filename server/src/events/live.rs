//! The admin listener's live stream (`/events`): server-sent events for the
//! live page and any other reader.
//!
//! One aggregator task, running while the stream has readers, takes what
//! arrived every [`LIVE_DRAIN`] and sends every reader one message every
//! [`LIVE_FLUSH`] (`event: friend_responses`): events in full up to
//! [`LIVE_EVENTS_PER_MESSAGE`] events or [`LIVE_MESSAGE_BYTES`], the number
//! of the others (`skipped`), the decisions of all of them by rule
//! (`counts`), and their answer latency (`latency_us`).
//!
//! A reader costs a callback nothing, whatever it does: the message is
//! framed once, as one shared buffer that every reader's connection sends
//! (no copy per reader); each reader has a queue of [`READER_QUEUE`]
//! messages, and a reader that lets it fill (it stopped reading, or reads
//! slower than 10 messages a second) is dropped, its connection closed, and
//! counted in `friendgate_live_readers_total{outcome="dropped"}`. At most
//! `admin.live_readers` read at once; one more is refused (503). The memory
//! a reader can hold is thus bounded by its queue and its connection's write
//! buffer, of messages that other readers share.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::sync::broadcast::error::TryRecvError;
use tokio::sync::broadcast::Receiver;
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};
use warp::http::{header, HeaderValue, StatusCode};
use warp::reply::Response;
use warp::Reply;

use super::{Emitted, EventBus, LIVE_DRAIN, LIVE_EVENTS_PER_MESSAGE, LIVE_FLUSH};
use crate::http::peer::Connection;
use crate::metrics::EventMetrics;

/// Latencies kept per message for its percentiles.
const LATENCY_SAMPLES: usize = 8192;

/// Bytes of events one message carries in full at most: a callback of
/// 1,000 items makes an event of about 150 KB, so one such event still goes
/// in full; a larger one is counted (`skipped`) but not sent.
pub(crate) const LIVE_MESSAGE_BYTES: usize = 256 << 10;

/// Messages a reader may have waiting (1.6 s of the stream) before it is
/// dropped.
const READER_QUEUE: usize = 16;

/// A comment line sent to a reader after this long without a message, so
/// that proxies and browsers keep the stream open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Default of `admin.live_readers`.
pub const DEFAULT_LIVE_READERS: usize = 32;

/// The readers of the live stream, as the aggregator sends to them.
#[derive(Debug, Default)]
pub(crate) struct Readers {
    readers: Mutex<Vec<Reader>>,
}

/// One reader: its queue, and its connection (closed when it is dropped).
#[derive(Debug)]
struct Reader {
    frames: mpsc::Sender<Bytes>,
    connection: Option<Arc<Connection>>,
}

impl Readers {
    /// Sends `frame` to every reader; drops (and counts) the readers whose
    /// queue is full, forgets those that went away.
    fn send(&self, frame: &Bytes, metrics: &EventMetrics) {
        let Ok(mut readers) = self.readers.lock() else {
            return;
        };
        readers.retain(|reader| match reader.frames.try_send(frame.clone()) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if let Some(connection) = &reader.connection {
                    connection.close();
                }
                metrics.live_reader("dropped");
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
    }

    /// Ends every reader's stream (at shutdown).
    pub(crate) fn end(&self) {
        if let Ok(mut readers) = self.readers.lock() {
            readers.clear();
        }
    }

    fn add(&self, reader: Reader) {
        if let Ok(mut readers) = self.readers.lock() {
            readers.push(reader);
        }
    }
}

/// What one reader took since its last message.
#[derive(Default)]
struct Window {
    events: Vec<Arc<Emitted>>,
    skipped: u64,
    dropped: u64,
    /// Rule → (allowed, rejected) items.
    counts: BTreeMap<String, (u64, u64)>,
    latencies: Vec<u64>,
    /// Bytes of the events in full.
    bytes: usize,
}

impl Window {
    fn take(&mut self, event: Arc<Emitted>) {
        for item in &event.event.items {
            let count = match self.counts.get_mut(&item.rule) {
                Some(count) => count,
                None => self.counts.entry(item.rule.clone()).or_default(),
            };
            match item.decision {
                Some("allow") => count.0 += 1,
                _ => count.1 += 1,
            }
        }
        if self.latencies.len() < LATENCY_SAMPLES {
            self.latencies.push(event.event.latency_us);
        }
        if self.events.len() < LIVE_EVENTS_PER_MESSAGE {
            let size = event.json().len() + 1;
            if self.bytes + size <= LIVE_MESSAGE_BYTES {
                self.bytes += size;
                self.events.push(event);
                return;
            }
        }
        self.skipped += 1;
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.skipped == 0 && self.dropped == 0
    }

    /// The message as one server-sent event, framed once for every reader:
    /// its id (the last event's), its name, and its JSON on one `data` line
    /// (the JSON has no line break), the events as each was written once.
    fn frame(&mut self) -> Bytes {
        let mut out = String::with_capacity(256 + self.bytes);
        if let Some(last) = self.events.last() {
            out.push_str("id: ");
            out.push_str(&last.event.id);
            out.push('\n');
        }
        out.push_str("event: friend_responses\ndata: ");
        out.push_str("{\"events\":[");
        for (index, event) in self.events.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            out.push_str(event.json());
        }
        self.latencies.sort_unstable();
        let at = |q: f64| {
            let index = ((self.latencies.len() as f64) * q) as usize;
            self.latencies
                .get(index.min(self.latencies.len().saturating_sub(1)))
                .copied()
        };
        let tail = serde_json::json!({
            "skipped": self.skipped,
            "dropped": self.dropped,
            "counts": self.counts.iter().map(|(rule, (allow, reject))| {
                serde_json::json!({"rule": rule, "allow": allow, "reject": reject})
            }).collect::<Vec<_>>(),
            "latency_us": {"p50": at(0.5), "p99": at(0.99), "count": self.latencies.len()},
        })
        .to_string();
        out.push_str("],");
        // `tail` is an object: splice its members after the events.
        out.push_str(tail.get(1..).unwrap_or("}"));
        out.push_str("\n\n");
        Bytes::from(out)
    }
}

/// Takes every event waiting for `receiver`; false once the bus is gone.
fn drain(
    receiver: &mut Receiver<Arc<Emitted>>,
    window: &mut Window,
    metrics: &EventMetrics,
) -> bool {
    loop {
        match receiver.try_recv() {
            Ok(event) => window.take(event),
            Err(TryRecvError::Empty) => return true,
            Err(TryRecvError::Lagged(missed)) => {
                window.dropped += missed;
                metrics.dropped("live", missed);
            }
            Err(TryRecvError::Closed) => return false,
        }
    }
}

/// The aggregator: drains the bus every [`LIVE_DRAIN`], sends a message
/// every [`LIVE_FLUSH`] when something came; ends with the bus.
pub(crate) async fn aggregate(bus: std::sync::Weak<EventBus>) {
    let Some((mut receiver, metrics)) = bus
        .upgrade()
        .map(|bus| (bus.live_events(), bus.metrics().clone()))
    else {
        return;
    };
    let mut window = Window::default();
    let mut flush_at = Instant::now() + LIVE_FLUSH;
    loop {
        tokio::time::sleep(LIVE_DRAIN).await;
        if !drain(&mut receiver, &mut window, &metrics) {
            return;
        }
        if Instant::now() < flush_at {
            continue;
        }
        flush_at = Instant::now() + LIVE_FLUSH;
        if window.is_empty() {
            continue;
        }
        let frame = window.frame();
        window = Window::default();
        let Some(bus) = bus.upgrade() else {
            return;
        };
        bus.live_readers().send(&frame, &metrics);
    }
}

/// Counts a reader in `friendgate_live_readers` until dropped (with its
/// stream, when its connection ends or is closed).
struct Admitted(prometheus_client::metrics::gauge::Gauge);

impl Admitted {
    /// Admits a reader, or `None` when `max` are already reading.
    fn enter(gauge: &prometheus_client::metrics::gauge::Gauge, max: usize) -> Option<Self> {
        let before = gauge.inc();
        let admitted = Self(gauge.clone());
        (usize::try_from(before).unwrap_or(usize::MAX) < max).then_some(admitted)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// One reader's body: its queued messages, and a keep-alive comment after
/// [`KEEP_ALIVE`] without one.
struct ReaderStream {
    frames: mpsc::Receiver<Bytes>,
    keep_alive: Pin<Box<Sleep>>,
    _admitted: Admitted,
}

impl Stream for ReaderStream {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let frame = match self.frames.poll_recv(cx) {
            Poll::Ready(Some(frame)) => frame,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => match self.keep_alive.as_mut().poll(cx) {
                Poll::Ready(()) => Bytes::from_static(b":\n\n"),
                Poll::Pending => return Poll::Pending,
            },
        };
        let next = Instant::now() + KEEP_ALIVE;
        self.keep_alive.as_mut().reset(next);
        Poll::Ready(Some(Ok(frame)))
    }
}

/// The `/events` answer for a new reader of `bus` on `connection` (closed
/// if the reader falls behind); 503 past `admin.live_readers`.
pub(crate) fn response(bus: &EventBus, connection: Option<Arc<Connection>>) -> Response {
    let metrics = bus.metrics();
    let Some(admitted) = Admitted::enter(metrics.live_readers(), bus.live_readers_max()) else {
        metrics.live_reader("refused");
        let mut response = Response::new(
            format!(
                "the live stream has its admin.live_readers ({}) readers already\n",
                bus.live_readers_max()
            )
            .into(),
        );
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        return response;
    };
    metrics.live_reader("admitted");
    let (frames, queue) = mpsc::channel(READER_QUEUE);
    bus.live_readers().add(Reader { frames, connection });
    let stream = ReaderStream {
        frames: queue,
        keep_alive: Box::pin(tokio::time::sleep(KEEP_ALIVE)),
        _admitted: admitted,
    };
    let mut response = warp::reply::stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, EventItem};

    fn event(n: u64, decision: &'static str) -> Arc<Emitted> {
        Arc::new(Emitted {
            event: Event {
                kind: "friend_response",
                version: 1,
                id: format!("evt_a_{n}"),
                answered_at_ms: 0,
                latency_us: n,
                app_id: 1,
                platform: None,
                client_ip: None,
                requester: "r".into(),
                from: "f".into(),
                event_time_ms: 0,
                add_type: None,
                force_add_flags: None,
                status: 200,
                error: None,
                items: vec![EventItem {
                    to: "t".into(),
                    action: Some("Response_Action_Agree".into()),
                    add_wording: None,
                    add_source: None,
                    decision: Some(decision),
                    result_code: Some(u32::from(decision == "reject") * 38001),
                    rule: if decision == "reject" {
                        "blocked"
                    } else {
                        "default"
                    }
                    .into(),
                }],
            },
            json: std::sync::OnceLock::new(),
        })
    }

    #[test]
    fn a_message_carries_200_events_in_full_and_counts_them_all() {
        let mut window = Window::default();
        for n in 1..=250 {
            window.take(event(n, if n % 5 == 0 { "reject" } else { "allow" }));
        }
        let frame = window.frame();
        let frame = std::str::from_utf8(&frame).unwrap();
        let (head, data) = frame.split_once("data: ").unwrap();
        assert_eq!(head, "id: evt_a_200\nevent: friend_responses\n");
        assert!(data.ends_with("}\n\n"));
        let message: serde_json::Value = serde_json::from_str(data.trim_end()).unwrap();
        assert_eq!(message["events"].as_array().unwrap().len(), 200);
        assert_eq!(message["events"][0]["id"], "evt_a_1");
        assert_eq!(message["skipped"], 50);
        assert_eq!(
            message["counts"],
            serde_json::json!([{"rule": "blocked", "allow": 0, "reject": 50}, {"rule": "default", "allow": 200, "reject": 0}])
        );
        assert_eq!(
            message["latency_us"],
            serde_json::json!({"p50": 126, "p99": 248, "count": 250})
        );
    }
}
