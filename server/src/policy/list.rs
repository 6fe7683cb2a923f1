//! List files (`accounts_file`, `words_file`): one entry per line, and the
//! JSON-string form of entries a plain line cannot hold.

use std::path::{Path, PathBuf};

use crate::config::files::{resolve, SettingsError};

/// Reads a list file: one entry per line; blank lines and `#` comments skipped.
pub(crate) fn read_list(
    file: &Path,
    base: &Path,
    key: &str,
    field: &str,
    list: &Path,
    watched: &mut Vec<PathBuf>,
) -> Result<Vec<String>, SettingsError> {
    let list = resolve(base, list);
    let text = std::fs::read_to_string(&list).map_err(|e| {
        SettingsError::new(
            file,
            format!("{key}.{field}"),
            format!("cannot read {}: {e}", list.display()),
        )
    })?;
    let entries = parse_list(&text).map_err(|reason| {
        SettingsError::new(
            file,
            format!("{key}.{field}"),
            format!("{}: {reason}", list.display()),
        )
    })?;
    watched.push(list);
    Ok(entries)
}

/// The entries of a list file: one per line, trimmed; blank lines and `#`
/// comments skipped. A line starting with `"` is one JSON string, for an
/// entry a plain line cannot hold (white space at its ends, a leading `#`
/// or `"`, a control character): the platform documents a UserID's length
/// (32 bytes), not its characters, so a list holds any text.
pub fn parse_list(text: &str) -> Result<Vec<String>, String> {
    text.lines()
        .enumerate()
        .map(|(index, line)| (index, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'))
        .map(|(index, line)| {
            parse_entry(line).map_err(|reason| format!("line {}: {reason}", index + 1))
        })
        .collect()
}

/// One trimmed, non-comment line of a list file as its entry.
pub(crate) fn parse_entry(line: &str) -> Result<String, String> {
    if line.starts_with('"') {
        serde_json::from_str::<String>(line)
            .map_err(|e| format!("a line starting with `\"` is one JSON string ({e})"))
    } else {
        Ok(line.to_owned())
    }
}

/// `entry` as a line of a list file: as it is, or as a JSON string when a
/// plain line would read back as something else (see [`parse_list`]).
pub(crate) fn list_line(entry: &str) -> std::borrow::Cow<'_, str> {
    let plain = !entry.is_empty()
        && entry.trim() == entry
        && !entry.starts_with(['#', '"'])
        && !entry.contains(char::is_control);
    if plain {
        entry.into()
    } else {
        serde_json::to_string(entry).unwrap_or_default().into()
    }
}
