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
use crate::policy::{list_line, parse_entry, ListStore};
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

/// Checks the entries, kept exactly as given (never trimmed or otherwise
/// changed into another account): each of 1 to [`MAX_ENTRY_BYTES`] bytes,
/// without control characters (no client can type one into a UserID or a
/// remark; a line break is most likely two entries pasted as one).
fn entries(list: Vec<String>) -> Result<Vec<String>, Refusal> {
    for entry in &list {
        if entry.is_empty() {
            return Err(refuse(StatusCode::BAD_REQUEST, "an entry is empty"));
        }
        if let Some(c) = entry.chars().find(|c| c.is_control()) {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "an entry holds the control character U+{:04X}: one entry per string",
                    u32::from(c)
                ),
            ));
        }
        if entry.len() > MAX_ENTRY_BYTES {
            return Err(refuse(
                StatusCode::BAD_REQUEST,
                format!(
                    "an entry has {} bytes; at most {MAX_ENTRY_BYTES}",
                    entry.len()
                ),
            ));
        }
    }
    Ok(list)
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
            let cannot = |e: std::io::Error| {
                refuse(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    format!("cannot write {}: {e}", file.display()),
                )
            };
            let before = std::fs::read_to_string(file).map_err(cannot)?;
            let (after, added, removed) = edited(&before, &add, &remove);
            write_atomically(file, &after).map_err(cannot)?;
            let file = file.to_owned();
            drop(rules);
            if let Err(error) = gateway.reload() {
                // Put back what was there, so that no later reload applies
                // what this one refused.
                write_atomically(&file, &before).map_err(cannot)?;
                return Err(refuse(
                    StatusCode::CONFLICT,
                    format!(
                        "the edit was refused and {} is as it was: {error}",
                        file.display()
                    ),
                ));
            }
            (added, removed, format!("file {}", file.display()))
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

/// `text` (a list file) with `add` appended (those not listed yet) and the
/// entries of `remove` taken out, comments and order kept; how many were
/// added and removed.
fn edited(text: &str, add: &[String], remove: &[String]) -> (String, usize, usize) {
    let removing: HashSet<&str> = remove.iter().map(String::as_str).collect();
    let mut kept = String::with_capacity(text.len());
    let mut present = HashSet::new();
    let mut removed = 0;
    for line in text.lines() {
        let trimmed = line.trim();
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            // A line that does not parse stays as it is (a reload says why).
            if let Ok(entry) = parse_entry(trimmed) {
                if removing.contains(entry.as_str()) {
                    removed += 1;
                    continue;
                }
                present.insert(entry);
            }
        }
        kept.push_str(line);
        kept.push('\n');
    }
    let mut added = 0;
    for entry in add {
        if present.insert(entry.clone()) {
            kept.push_str(&list_line(entry));
            kept.push('\n');
            added += 1;
        }
    }
    (kept, added, removed)
}

/// Writes `text` to `file` through a temporary file beside it, flushed to
/// disk, then renamed over it, so that a reader (or a crash) sees the old
/// list or the new one, never half of one.
fn write_atomically(file: &Path, text: &str) -> std::io::Result<()> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = file.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    let mut out = std::fs::File::create(&temporary)?;
    out.write_all(text.as_bytes())?;
    out.sync_all()?;
    std::fs::rename(&temporary, file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_keeps_comments_and_order() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("list.txt");
        std::fs::write(&file, "# blocked\nalice\nbob\n\ncarol\n").unwrap();
        let (text, added, removed) = edited(
            &std::fs::read_to_string(&file).unwrap(),
            &["dave".into(), "alice".into()],
            &["bob".into()],
        );
        assert_eq!((added, removed), (1, 1));
        write_atomically(&file, &text).unwrap();
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
    fn entries_are_kept_exactly_and_read_back_the_same() {
        assert!(entries(vec![String::new()]).is_err());
        assert!(entries(vec!["a\nb".into()]).is_err());
        let odd = [" a ", "# x", "\"q", "\u{a0}c", "plain"];
        let kept = entries(odd.map(String::from).to_vec()).unwrap();
        assert_eq!(kept, odd);
        let (text, added, _) = edited("", &kept, &[]);
        assert_eq!(added, odd.len());
        assert_eq!(crate::policy::parse_list(&text).unwrap(), odd);
    }
}
