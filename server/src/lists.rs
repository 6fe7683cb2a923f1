//! Lists edited at runtime through the admin API: accounts and words added
//! to or removed from a rule, persisted where the rule reads them (its
//! Redis set, or its list file, rewritten atomically) and applied at once
//! (a set through its change notice, a file through an in-process reload
//! that keeps every bucket). Each edit is written to the audit log
//! (`friendgate::audit`).

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;

use serde::Deserialize;
use warp::http::StatusCode;

use crate::gateway::Gateway;
use crate::policy::ListStore;
use crate::state::{edit_set, SetEdit};

/// The body of `POST /rules/<rule>/accounts` or `/words`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEdit {
    /// Entries to add.
    #[serde(default)]
    pub add: Vec<String>,
    /// Entries to remove.
    #[serde(default)]
    pub remove: Vec<String>,
}

/// Entries one edit may carry.
const MAX_ENTRIES: usize = 10_000;

/// Bytes one entry may have.
const MAX_ENTRY_BYTES: usize = 256;

/// Why an edit was refused: the status and the reason.
pub type Refusal = (StatusCode, String);

fn refuse(status: StatusCode, reason: impl Into<String>) -> Refusal {
    (status, reason.into())
}

/// Checks the entries: trimmed, non-empty, one line, not a comment.
fn entries(list: Vec<String>) -> Result<Vec<String>, Refusal> {
    list.into_iter()
        .map(|entry| {
            let entry = entry.trim().to_owned();
            if entry.is_empty()
                || entry.len() > MAX_ENTRY_BYTES
                || entry.contains(['\n', '\r'])
                || entry.starts_with('#')
            {
                Err(refuse(
                    StatusCode::BAD_REQUEST,
                    format!("entries are one line of 1 to {MAX_ENTRY_BYTES} bytes, not starting with `#`"),
                ))
            } else {
                Ok(entry)
            }
        })
        .collect()
}

/// Applies `edit` to the `list` (`accounts` or `words`) of `rule`; says
/// what changed as JSON.
pub async fn apply(
    gateway: &Gateway,
    rule: &str,
    list: &str,
    edit: ListEdit,
) -> Result<serde_json::Value, Refusal> {
    if edit.add.len() + edit.remove.len() > MAX_ENTRIES {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {MAX_ENTRIES} entries in one edit"),
        ));
    }
    let (add, remove) = (entries(edit.add)?, entries(edit.remove)?);
    let _one_at_a_time = gateway.edits().lock().await;
    let settings = gateway.settings();
    let rules = settings.policy.describe();
    let info = rules
        .iter()
        .find(|r| r.name == rule)
        .ok_or_else(|| refuse(StatusCode::NOT_FOUND, format!("no rule named `{rule}`")))?;
    if info.kind != list {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            format!("rule `{rule}` is a {} rule, not an {list} list", info.kind),
        ));
    }
    let (added, removed, store) = match info.store {
        Some(ListStore::RedisSet(key)) => {
            let state = settings.state.as_ref().ok_or_else(|| {
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "a Redis set without [state]",
                )
            })?;
            let mut said = Vec::new();
            for change in [SetEdit::Add(add.clone()), SetEdit::Remove(remove.clone())] {
                said.push(
                    edit_set(state, key, change)
                        .await
                        .map_err(|e| refuse(StatusCode::BAD_GATEWAY, e))?,
                );
            }
            (add.len(), remove.len(), format!("redis set {key}"))
        }
        Some(ListStore::File(file)) => {
            let (added, removed) = rewrite(file, &add, &remove).map_err(|e| {
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot write {}: {e}", file.display()),
                )
            })?;
            let file = file.display().to_string();
            drop(rules);
            gateway.reload().map_err(|e| {
                refuse(
                    StatusCode::CONFLICT,
                    format!("{file} was written, but the configuration did not reload: {e}"),
                )
            })?;
            (added, removed, format!("file {file}"))
        }
        None => {
            return Err(refuse(
                StatusCode::CONFLICT,
                format!("rule `{rule}` has no list file or Redis set to keep an edit in"),
            ))
        }
    };
    tracing::info!(target: "friendgate::audit", rule, list, added, removed, store = %store, add = ?add, remove = ?remove, "list edited through the admin API");
    Ok(serde_json::json!({
        "rule": rule,
        "list": list,
        "added": added,
        "removed": removed,
        "store": store,
    }))
}

/// Rewrites `file` with `add` appended (those not listed yet) and the lines
/// of `remove` taken out, comments kept: into a temporary file beside it,
/// flushed to disk, then renamed over it, so that a reader (or a crash)
/// sees the old list or the new one, never half of one.
fn rewrite(file: &Path, add: &[String], remove: &[String]) -> std::io::Result<(usize, usize)> {
    let text = std::fs::read_to_string(file)?;
    let removing: HashSet<&str> = remove.iter().map(String::as_str).collect();
    let mut kept = Vec::new();
    let mut present = HashSet::new();
    let mut removed = 0;
    for line in text.lines() {
        let entry = line.trim();
        if removing.contains(entry) {
            removed += 1;
            continue;
        }
        present.insert(entry.to_owned());
        kept.push(line.to_owned());
    }
    let mut added = 0;
    for entry in add {
        if present.insert(entry.clone()) {
            kept.push(entry.clone());
            added += 1;
        }
    }
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = file.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut out = std::fs::File::create(&temporary)?;
    for line in &kept {
        writeln!(out, "{line}")?;
    }
    out.sync_all()?;
    std::fs::rename(&temporary, file)?;
    Ok((added, removed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_keeps_comments_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("list.txt");
        std::fs::write(&file, "# blocked\nalice\nbob\n\ncarol\n").unwrap();
        let changed = rewrite(&file, &["dave".into(), "alice".into()], &["bob".into()]).unwrap();
        assert_eq!(changed, (1, 1));
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "# blocked\nalice\n\ncarol\ndave\n"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary left"
        );
    }

    #[test]
    fn entries_are_one_line_each() {
        assert!(entries(vec!["a\nb".into()]).is_err());
        assert!(entries(vec!["  ".into()]).is_err());
        assert!(entries(vec!["# x".into()]).is_err());
        assert_eq!(entries(vec![" a ".into()]).unwrap(), ["a"]);
    }
}
