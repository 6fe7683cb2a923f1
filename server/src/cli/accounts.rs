//! `friendgate accounts`: changes the Redis set of an `accounts` rule and
//! tells every replica at once.

use std::path::{Path, PathBuf};

use crate::config::settings::Settings;
use crate::policy::parse_list;
use crate::state::{edit_set, SetEdit};

/// What to do to the set.
#[derive(Debug)]
pub enum Change {
    /// Add these accounts.
    Add(Vec<String>),
    /// Remove these accounts.
    Remove(Vec<String>),
    /// Add every account of a list file (`-`: standard input); with
    /// `replace`, make the set hold exactly them (refused when it would lose
    /// more than half, unless `allow_shrink`).
    Load {
        /// The list file.
        file: PathBuf,
        /// Remove the accounts the file does not list.
        replace: bool,
        /// With `replace`, allow losing more than half.
        allow_shrink: bool,
    },
}

/// Applies `change` to the set of `rule` in the config at `config`; what
/// Redis now holds, in one line.
pub fn run(
    config: &Path,
    rule: &str,
    change: Change,
) -> Result<String, Box<dyn std::error::Error>> {
    let settings = Settings::load(config)?;
    let Some(state) = &settings.state else {
        return Err(format!("{}: has no [state] section", config.display()).into());
    };
    let Some(key) = settings.policy.redis_set(rule) else {
        return Err(format!(
            "{}: no accounts rule named `{rule}` with a `redis_set`",
            config.display()
        )
        .into());
    };
    let edit = match change {
        Change::Add(accounts) => SetEdit::Add(accounts),
        Change::Remove(accounts) => SetEdit::Remove(accounts),
        Change::Load {
            file,
            replace,
            allow_shrink,
        } => {
            let text = String::from_utf8(super::read_input(&file)?)
                .map_err(|_| format!("{}: not UTF-8", file.display()))?;
            let accounts = parse_list(&text).map_err(|e| format!("{}: {e}", file.display()))?;
            if replace {
                SetEdit::Replace {
                    accounts,
                    allow_shrink,
                }
            } else {
                SetEdit::Add(accounts)
            }
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(edit_set(state, key, edit))?)
}
