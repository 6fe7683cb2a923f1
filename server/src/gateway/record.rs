//! What an answered callback leaves behind: its metrics, its log line (at a
//! bounded rate for refusals before authentication), and its event.

use std::time::Instant;

use friendgate_core::{CallbackError, Reply};

use super::Gateway;
use crate::decided::{Command, Slot};
use crate::events::{Event, EventItem};
use crate::logging::format::{write_json_str, write_json_u64};
use crate::metrics::DecisionCounters;
use crate::policy::spec::TextField;
use crate::policy::subject::{Header, Subject};

/// One item of the log line.
#[derive(Debug)]
pub(crate) struct ItemLog<'a> {
    /// The decision counter's slot (not logged).
    pub(crate) slot: Slot,
    /// The item as the rules read it.
    pub(crate) subject: Subject<'a>,
    pub(crate) rule: &'a str,
    /// The `ResultCode` the answer carries for the item; `None` when the
    /// answer carries none (the failure policy failed the callback).
    pub(crate) result: Option<u32>,
    pub(crate) error: Option<String>,
}

impl ItemLog<'_> {
    /// Writes `{"to":..,"action":..,"rule":..,"result":..[,"error":..]}`
    /// (`result` is `null` for an item the answer does not carry; a friend
    /// request's item has no `action`: its `AddType` is the line's).
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(br#"{"to":"#);
        write_json_str(out, self.subject.to);
        if let Some(action) = self.subject.response_action() {
            out.extend_from_slice(br#","action":"#);
            write_json_str(out, action);
        }
        out.extend_from_slice(br#","rule":"#);
        write_json_str(out, self.rule);
        out.extend_from_slice(br#","result":"#);
        match self.result {
            Some(result) => write_json_u64(out, u64::from(result)),
            None => out.extend_from_slice(b"null"),
        }
        if let Some(error) = &self.error {
            out.extend_from_slice(br#","error":"#);
            write_json_str(out, error);
        }
        out.push(b'}');
    }
}

/// The items of the log line as a JSON array.
pub(crate) fn items_json(log: &[ItemLog<'_>]) -> String {
    let mut json = Vec::with_capacity(2 + log.len() * 112);
    json.push(b'[');
    for (index, item) in log.iter().enumerate() {
        if index > 0 {
            json.push(b',');
        }
        item.write_json(&mut json);
    }
    json.push(b']');
    // Only whole strings were written, so this is UTF-8.
    String::from_utf8(json).unwrap_or_else(|_| "null".to_owned())
}

impl Gateway {
    /// The FAIL reply for `error` (from core or the HTTP layer), logged and
    /// counted like every callback.
    pub fn refuse(&self, error: CallbackError, started: Instant) -> Reply {
        self.refusal(None, error, started, false)
    }

    /// [`Gateway::refuse`] for a callback of `command` (its body refused).
    pub(crate) fn refuse_command(
        &self,
        command: Command,
        error: CallbackError,
        started: Instant,
    ) -> Reply {
        self.refusal(Some(command), error, started, false)
    }

    /// [`Gateway::refuse`] for a request refused before it was
    /// authenticated: counted like every refusal, but logged at a bounded
    /// rate (see [`crate::logging::refusals`]), so that an outsider cannot fill the
    /// log.
    pub(crate) fn refuse_unauthenticated(&self, error: CallbackError, started: Instant) -> Reply {
        self.refusal(None, error, started, true)
    }

    fn refusal(
        &self,
        command: Option<Command>,
        error: CallbackError,
        started: Instant,
        outsider: bool,
    ) -> Reply {
        let reply = Reply::from_error(error);
        let elapsed = started.elapsed();
        let Some(error) = &reply.error else {
            return reply;
        };
        self.metrics.callback(command, Some(error.code()));
        let (suppressed, message) = if outsider {
            match self.refusals.admit(self.now()) {
                Some(suppressed) => (suppressed, "request refused before authentication"),
                None => return reply,
            }
        } else {
            (0, "callback refused")
        };
        tracing::warn!(
            target: "friendgate::callback",
            command = command.map_or("unknown", Command::wire),
            status = reply.status,
            error = error.code(),
            reason = %error,
            micros = elapsed.as_micros() as u64,
            suppressed,
            "{message}"
        );
        reply
    }

    pub(crate) fn record(
        &self,
        header: Header<'_>,
        log: &[ItemLog<'_>],
        counters: &DecisionCounters,
        reply: &Reply,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        let error = reply.error.as_ref().map(CallbackError::code);
        self.metrics.callback(Some(header.command), error);
        for item in log {
            if let Some(result) = item.result {
                counters.count(item.slot, result == 0);
            }
        }
        if self.events.wanted() {
            self.events
                .emit(event(&header, log, reply, elapsed, self.events.next_id()));
        }
        // The items' JSON is built only when the line will be written.
        if !tracing::enabled!(target: "friendgate::callback", tracing::Level::INFO) {
            return;
        }
        let items = items_json(log);
        let (add_type, force_add_flags) = header.add.unzip();
        tracing::info!(
            target: "friendgate::callback",
            command = header.command.wire(),
            status = reply.status,
            error = error.unwrap_or("none"),
            app_id = header.app_id,
            platform = header.platform.unwrap_or(""),
            client_ip = header.client_ip.unwrap_or(""),
            from = header.from,
            requester = header.requester,
            event_time_ms = header.event_time_ms,
            add_type,
            force_add_flags,
            items = %items,
            micros = elapsed.as_micros() as u64,
            "callback answered"
        );
    }
}

/// The event of an answered callback.
fn event(
    header: &Header<'_>,
    log: &[ItemLog<'_>],
    reply: &Reply,
    elapsed: std::time::Duration,
    id: String,
) -> Event {
    let request = header.command == Command::FriendRequest;
    let text = |subject: &Subject<'_>, field| {
        request.then(|| subject.text(field).unwrap_or_default().to_owned())
    };
    Event {
        kind: header.command.event_type(),
        version: crate::events::EVENT_VERSION,
        id,
        answered_at_ms: crate::clock::unix_ms(),
        latency_us: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        app_id: header.app_id,
        platform: header.platform.map(str::to_owned),
        client_ip: header.client_ip.map(str::to_owned),
        requester: header.requester.to_owned(),
        from: header.from.to_owned(),
        event_time_ms: header.event_time_ms,
        add_type: header.add.map(|(add_type, _)| add_type.to_owned()),
        force_add_flags: header.add.map(|(_, flags)| flags),
        status: reply.status,
        error: reply.error.as_ref().map(CallbackError::code),
        items: log
            .iter()
            .map(|item| EventItem {
                to: item.subject.to.to_owned(),
                action: item.subject.response_action().map(str::to_owned),
                add_wording: text(&item.subject, TextField::AddWording),
                add_source: text(&item.subject, TextField::AddSource),
                decision: item.result.map(|r| if r == 0 { "allow" } else { "reject" }),
                result_code: item.result,
                rule: item.rule.to_owned(),
            })
            .collect(),
    }
}
