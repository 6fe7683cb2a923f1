//! Callbacks of other commands at the one URL: forwarded to their upstream
//! with the whole query, body and content type, or answered "processed" by
//! core; logged and counted by command.

use bytes::Bytes;
use std::time::Instant;

use friendgate_core::{command_label, CallbackError, CallbackQuery, Reply};

use super::{Gateway, ANSWER_MARGIN};
use crate::config::settings::Settings;
use crate::upstream::{Forwarded, Outgoing};

/// The answer to a callback of another command.
#[derive(Debug)]
pub(crate) enum OtherAnswer {
    /// Answered by the gateway (core's "processed", or a FAIL).
    Reply(Reply),
    /// The upstream's answer, passed on as it came.
    Forwarded(Forwarded),
}

/// What a callback of another command brings besides its query.
pub(crate) struct OtherRequest<'a> {
    /// The raw query, passed on whole (Sign included).
    pub raw_query: &'a str,
    /// The body, unread by the gateway.
    pub body: Bytes,
    /// Its `Content-Type`.
    pub content_type: Option<&'a str>,
    /// The `X-Forwarded-For` to send on.
    pub forwarded_for: Option<String>,
}

impl Gateway {
    /// Answers an authenticated callback of another command: forwarded to
    /// its upstream with the whole query, body and content type, or, with
    /// none, core's "processed" answer. Logged and counted by command.
    pub(crate) async fn answer_other(
        &self,
        settings: &Settings,
        query: CallbackQuery<'_>,
        request: OtherRequest<'_>,
        started: Instant,
    ) -> OtherAnswer {
        let command = command_label(&query.callback_command);
        let Some(route) = settings.upstreams.route(&query.callback_command) else {
            let reply = Reply::processed();
            self.record_other(command, None, reply.status, None, started);
            return OtherAnswer::Reply(reply);
        };
        let left = (started + settings.server.request_deadline)
            .saturating_duration_since(Instant::now())
            .saturating_sub(ANSWER_MARGIN);
        let outgoing = Outgoing {
            route,
            query: request.raw_query,
            content_type: request.content_type,
            forwarded_for: request.forwarded_for,
            body: request.body,
            timeout: settings.upstreams.timeout.min(left),
            max_answer_bytes: settings.upstreams.max_answer_bytes,
        };
        match self.forwarder.forward(outgoing).await {
            Ok(forwarded) => {
                let status = forwarded.status.as_u16();
                self.record_other(command, Some(&route.command), status, None, started);
                OtherAnswer::Forwarded(forwarded)
            }
            Err(error) => {
                let reply = Reply::from_error(error);
                let code = reply.error.as_ref().map(CallbackError::code);
                self.record_other(command, Some(&route.command), reply.status, code, started);
                if let Some(error) = &reply.error {
                    tracing::warn!(target: "friendgate::forward", command, upstream = %route.command, error = error.code(), reason = %error, "upstream failed; answered FAIL");
                }
                OtherAnswer::Reply(reply)
            }
        }
    }

    fn record_other(
        &self,
        command: &'static str,
        upstream: Option<&str>,
        status: u16,
        error: Option<&'static str>,
        started: Instant,
    ) {
        let elapsed = started.elapsed();
        self.metrics
            .other_command(command, upstream, status, error, elapsed.as_secs_f64());
        tracing::info!(
            target: "friendgate::forward",
            command,
            upstream = upstream.unwrap_or("none"),
            status,
            error = error.unwrap_or("none"),
            micros = elapsed.as_micros() as u64,
            "{}",
            if upstream.is_some() { "callback forwarded" } else { "callback of another command answered" }
        );
    }
}
