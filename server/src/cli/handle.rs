//! `friendgate handle`: answers one callback from the command line, through
//! the same code as the server.

use std::path::Path;

use friendgate_core::Reply;

use crate::config::settings::Settings;
use crate::gateway::Gateway;

/// The answer to the callback of `query` and the body in `body` (`-`:
/// standard input) at `now` (Unix seconds), under the config at `config`.
pub fn run(
    config: &Path,
    query: &str,
    body: &Path,
    now: u64,
) -> Result<Reply, Box<dyn std::error::Error>> {
    let gateway = Gateway::new(Settings::load(config)?);
    let body = super::read_input(body)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(async {
        gateway
            .connect_state(std::time::Duration::from_secs(2))
            .await;
        gateway.answer(query, &body, now).await
    }))
}
