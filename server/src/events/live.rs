//! The admin listener's live stream (`/events`): server-sent events for the
//! live page and any other reader.
//!
//! Each reader takes what arrived every [`LIVE_DRAIN`] and is sent one
//! message every [`LIVE_FLUSH`] (`event: friend_responses`): at most
//! [`LIVE_EVENTS_PER_MESSAGE`] events in full, the number of the others
//! (`skipped`), the decisions of all of them by rule (`counts`), and their
//! answer latency (`latency_us`). Ten readers thus cost a few wake-ups a
//! second each, not one per callback. A reader that falls more than the
//! stream's buffer behind loses events: they are counted in `dropped` and in
//! `friendgate_events_total{sink="live",outcome="dropped"}`; no callback
//! ever waits for a reader.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;

use tokio::sync::broadcast::{error::TryRecvError, Receiver};
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
            let count = self.counts.entry(item.rule.clone()).or_default();
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
                for _ in 0..missed {
                    metrics.dropped("live");
                }
            }
            Err(TryRecvError::Closed) => return false,
        }
    }
}

/// The `/events` answer for a new reader of `bus`.
pub(crate) fn response(bus: &EventBus) -> Response {
    let receiver = bus.subscribe();
    let metrics = bus.metrics().clone();
    let stream = futures_util::stream::unfold(receiver, move |mut receiver| {
        let metrics = metrics.clone();
        async move {
            let mut window = Window::default();
            let mut flush_at = Instant::now() + LIVE_FLUSH;
            loop {
                tokio::time::sleep(LIVE_DRAIN).await;
                if !drain(&mut receiver, &mut window, &metrics) {
                    return None;
                }
                if Instant::now() >= flush_at {
                    if !window.is_empty() {
                        break;
                    }
                    flush_at = Instant::now() + LIVE_FLUSH;
                }
            }
            let mut message = warp::sse::Event::default().event("friend_responses");
            if let Some(last) = window.events.last() {
                message = message.id(last.event.id.clone());
            }
            let message = message.data(window.message());
            Some((Ok::<_, Infallible>(message), receiver))
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
