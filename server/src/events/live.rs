//! The admin listener's live stream (`/events`): server-sent events for the
//! live page and any other reader.
//!
//! One aggregator task, running while the stream has readers, takes what
//! arrived every [`LIVE_DRAIN`] and sends every reader one message every
//! [`LIVE_FLUSH`] (`event: friend_responses`): at most
//! [`LIVE_EVENTS_PER_MESSAGE`] events in full, the number of the others
//! (`skipped`), the decisions of all of them by rule (`counts`), and their
//! answer latency (`latency_us`). A callback thus costs the same whatever
//! the number of readers: ten cost ten messages a second each, written once.
//! Events the aggregator could not keep up with are counted in `dropped`
//! and in `friendgate_events_total{sink="live",outcome="dropped"}`; a reader
//! that falls more than 64 messages behind loses the oldest, counted in
//! `friendgate_live_messages_dropped_total`. No callback ever waits for a
//! reader.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;
use tokio::time::Instant;
use warp::reply::Response;
use warp::Reply;

use super::{Emitted, EventBus, LIVE_DRAIN, LIVE_EVENTS_PER_MESSAGE, LIVE_FLUSH};
use crate::metrics::EventMetrics;

/// Latencies kept per message for its percentiles.
const LATENCY_SAMPLES: usize = 8192;

/// What one reader took since its last message.
#[derive(Default)]
struct Window {
    events: Vec<Arc<Emitted>>,
    skipped: u64,
    dropped: u64,
    /// Rule → (allowed, rejected) items.
    counts: BTreeMap<String, (u64, u64)>,
    latencies: Vec<u64>,
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
            self.events.push(event);
        } else {
            self.skipped += 1;
        }
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty() && self.skipped == 0 && self.dropped == 0
    }

    /// The message's JSON: the events as each was written once.
    fn message(&mut self) -> String {
        let mut out = String::with_capacity(
            128 + self
                .events
                .iter()
                .map(|e| e.json().len() + 1)
                .sum::<usize>(),
        );
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
        out
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
        let last = window.events.last().map(|e| e.event.id.clone());
        let message = Arc::new((last, window.message()));
        window = Window::default();
        let Some(bus) = bus.upgrade() else {
            return;
        };
        // No reader: nothing is lost, the message is for no one.
        let _ = bus.live_messages().send(message);
    }
}

/// The `/events` answer for a new reader of `bus`.
pub(crate) fn response(bus: &EventBus) -> Response {
    let receiver = bus.live_messages().subscribe();
    let metrics = bus.metrics().clone();
    let stream = futures_util::stream::unfold(receiver, move |mut receiver| {
        let metrics = metrics.clone();
        async move {
            let message = loop {
                match receiver.recv().await {
                    Ok(message) => break message,
                    Err(RecvError::Lagged(missed)) => metrics.live_messages_dropped(missed),
                    Err(RecvError::Closed) => return None,
                }
            };
            let mut sse = warp::sse::Event::default().event("friend_responses");
            if let Some(id) = &message.0 {
                sse = sse.id(id.clone());
            }
            Some((Ok::<_, Infallible>(sse.data(message.1.clone())), receiver))
        }
    });
    warp::sse::reply(warp::sse::keep_alive().stream(stream)).into_response()
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
                status: 200,
                error: None,
                items: vec![EventItem {
                    to: "t".into(),
                    action: "Response_Action_Agree".into(),
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
        let message: serde_json::Value = serde_json::from_str(&window.message()).unwrap();
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
