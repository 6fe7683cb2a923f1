//! The fred client as every user of `[state]` builds it, and the paged read
//! of a set.

use std::collections::HashSet;
use std::time::Duration;

use fred::clients::Client;
use fred::types::config::ReconnectPolicy;
use fred::types::scan::Scanner;
use futures_util::StreamExt;

use crate::state::settings::StateSettings;

/// Members read per `SSCAN` page.
pub(crate) const SCAN_COUNT: u32 = 1000;

/// A fred client on `settings`: calls time out after `timeout`, are not
/// retried after a lost connection (a rate-limit take must not count
/// twice), and the connection is re-made forever with a backoff of 50 ms
/// to [`RECONNECT_MAX_MS`] ms; a connection that answers nothing for 2 s is
/// closed and re-made.
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
            connection.max_command_attempts = 1;
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
