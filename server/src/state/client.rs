//! The fred client as every user of `[state]` builds it, and the paged read
//! of a set.

use std::collections::HashSet;
use std::time::Duration;

use fred::clients::Client;
use fred::interfaces::ClientLike;
use fred::types::config::ReconnectPolicy;
use fred::types::scan::Scanner;
use futures_util::StreamExt;

use crate::state::settings::StateSettings;

/// Members read per `SSCAN` page.
pub(crate) const SCAN_COUNT: u32 = 1000;

/// A fred client on `settings`: calls time out after `timeout` and follow
/// one cluster `MOVED`; the connection is re-made
/// forever with a backoff of 50 ms to [`RECONNECT_MAX_MS`] ms, and a
/// connection that answers nothing for 2 s is closed and re-made. The
/// rate-limit call is never retried after a lost connection (a token must
/// not be taken twice: see `Store::limits`). The first connection fails
/// fast (`friendgate accounts` says at once that Redis is unreachable);
/// the gateway's store tries again until Redis answers ([`keep_connected`]).
pub(crate) fn client_builder(settings: &StateSettings) -> fred::types::Builder {
    let mut builder = fred::types::Builder::from_config(settings.config.clone());
    let timeout = settings.timeout;
    builder
        .with_performance_config(|performance| {
            performance.default_command_timeout = timeout;
        })
        .with_connection_config(|connection| {
            connection.connection_timeout = Duration::from_secs(1);
            connection.internal_command_timeout = Duration::from_secs(1);
            // One redirection is followed, and fewer redirections than
            // attempts are allowed: fred 10.1 ends its connection task for
            // good when an `ASK` finds no attempt left, and it sends the
            // command after `ASKING` to the slot's old owner, which answers
            // `ASK` again. With 1 attempt (as before) a slot migration
            // stopped every Redis call until the gateway was restarted; now
            // a call on a slot whose keys are moving fails (the rule's
            // on_redis_error) and the task lives (tests/redis/test_cluster.py).
            // A `MOVED` (the slot has moved) is followed.
            connection.max_command_attempts = 3;
            connection.max_redirections = 1;
            connection.unresponsive.max_timeout = Some(Duration::from_secs(2));
            connection.unresponsive.interval = Duration::from_millis(500);
        })
        .set_policy(ReconnectPolicy::new_exponential(0, 50, RECONNECT_MAX_MS, 2));
    builder
}

/// The longest wait between two reconnection attempts, ms. At 1 s, gateways
/// found a promoted Sentinel master 1.4 s after the promotion (an attempt
/// had just missed it); at 250 ms they are on it within the second the
/// failover test requires (tests/redis/test_sentinel.py), for four cheap
/// attempts a second per replica while Redis is down.
const RECONNECT_MAX_MS: u32 = 250;

/// Runs `client`'s connection task again each time it ends, for as long as
/// `alive()` holds, after [`RECONNECT_MAX_MS`]. fred retries a lost
/// connection by itself, but ends the task for good on some errors: a
/// first connection refused (a gateway started before its Redis never
/// used it), a failed `ASKING` during a slot migration.
/// `running` is the task `connect()` started first (started by the caller,
/// so that commands sent right after are not refused as sent before it).
pub(crate) async fn keep_connected<C: ClientLike>(
    client: C,
    mut running: fred::types::ConnectHandle,
    alive: impl Fn() -> bool,
) {
    loop {
        let ended = (&mut running).await;
        if !alive() {
            return;
        }
        let why = match ended {
            Ok(Ok(())) => "ended".to_owned(),
            Ok(Err(error)) => error.details().to_owned(),
            Err(join) => join.to_string(),
        };
        tracing::warn!(target: "friendgate::state", client = client.id(), why = %why, "Redis connection task ended; starting it again");
        tokio::time::sleep(Duration::from_millis(u64::from(RECONNECT_MAX_MS))).await;
        running = client.connect();
    }
}

/// Every member of the set `key`, read with `SSCAN` in pages of
/// [`SCAN_COUNT`] (never one `SMEMBERS` that would hold Redis up on a big set).
pub(crate) async fn read_members(
    client: &Client,
    key: &str,
) -> Result<HashSet<String>, fred::error::Error> {
    let mut members = HashSet::new();
    let mut pages = std::pin::pin!(client.sscan(key, "*", Some(SCAN_COUNT)));
    while let Some(page) = pages.next().await {
        let mut page = page?;
        if let Some(values) = page.take_results() {
            members.extend(values.into_iter().filter_map(|v| v.into_string()));
        }
        page.next();
    }
    Ok(members)
}
