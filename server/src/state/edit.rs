//! Changes to a rule's Redis set (`friendgate accounts`, the admin API),
//! announced to every replica.

use std::collections::HashSet;
use std::time::Duration;

use fred::interfaces::{ClientLike, PubsubInterface, SetsInterface};

use crate::state::client::{client_builder, read_members, SCAN_COUNT};
use crate::state::settings::StateSettings;

/// A change to a rule's set made by `friendgate accounts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetEdit {
    /// `SADD` these accounts.
    Add(Vec<String>),
    /// `SREM` these accounts.
    Remove(Vec<String>),
    /// Make the set hold exactly these accounts (`load --replace`);
    /// refused when it would lose more than half of the set unless
    /// `allow_shrink`.
    Replace {
        /// The accounts.
        accounts: Vec<String>,
        /// Whether a shrink by more than half is intended.
        allow_shrink: bool,
    },
}

/// How long `friendgate accounts` waits for Redis, to connect and per call.
const EDIT_TIMEOUT: Duration = Duration::from_secs(5);

/// Applies `edit` to `key`, announces it to every replica, and says what
/// changed.
pub async fn edit_set(
    settings: &StateSettings,
    key: &str,
    edit: SetEdit,
) -> Result<String, String> {
    // An operator's command waits for a busy Redis longer than a callback
    // does (`timeout_ms` is for the answer path).
    let client = client_builder(settings)
        .with_performance_config(|performance| performance.default_command_timeout = EDIT_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let connect = tokio::time::timeout(EDIT_TIMEOUT, client.init())
        .await
        .map_err(|_| format!("cannot reach {} within 5 s", settings.redis))?;
    connect.map_err(|e| format!("cannot reach {}: {}", settings.redis, e.details()))?;
    let run = async {
        let chunks = |accounts: &[String]| {
            accounts
                .chunks(SCAN_COUNT as usize)
                .map(<[String]>::to_vec)
                .collect::<Vec<_>>()
        };
        let (mut added, mut removed) = (0u64, 0u64);
        match edit {
            SetEdit::Add(accounts) => {
                for chunk in chunks(&accounts) {
                    added += client.sadd::<u64, _, _>(key, chunk).await?;
                }
            }
            SetEdit::Remove(accounts) => {
                for chunk in chunks(&accounts) {
                    removed += client.srem::<u64, _, _>(key, chunk).await?;
                }
            }
            SetEdit::Replace {
                accounts,
                allow_shrink,
            } => {
                let wanted: HashSet<&String> = accounts.iter().collect();
                let current = read_members(&client, key).await?;
                if !allow_shrink
                    && !current.is_empty()
                    && (wanted.len() as f64) < current.len() as f64 * 0.5
                {
                    return Ok(Err(format!(
                        "{key} holds {} accounts and the file {}; not replaced (give --allow-shrink if this is intended)",
                        current.len(),
                        wanted.len()
                    )));
                }
                let gone: Vec<String> = current
                    .into_iter()
                    .filter(|a| !wanted.contains(a))
                    .collect();
                for chunk in chunks(&accounts) {
                    added += client.sadd::<u64, _, _>(key, chunk).await?;
                }
                for chunk in chunks(&gone) {
                    removed += client.srem::<u64, _, _>(key, chunk).await?;
                }
            }
        }
        let _: i64 = client.publish(settings.changes_channel(), key).await?;
        let size: u64 = client.scard(key).await?;
        Ok::<_, fred::error::Error>(Ok(format!(
            "{key}: {added} added, {removed} removed, {size} accounts now; replicas told on {}",
            settings.changes_channel()
        )))
    };
    let done = run
        .await
        .map_err(|e| format!("{}: {}", settings.redis, e.details()));
    let _ = client.quit().await;
    done?
}
