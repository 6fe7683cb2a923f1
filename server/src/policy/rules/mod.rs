//! The rule kinds, one file each: its matcher, how it is built from its
//! `[[rule]]` table, and how it matches an item. A new kind is a file here,
//! a variant of `RuleKind` (spec.rs) and of `Matcher` (rule.rs).

pub(crate) mod accounts;
pub(crate) mod action;
pub(crate) mod rate_limit;
pub(crate) mod words;

use std::path::{Path, PathBuf};

use crate::config::files::SettingsError;

/// What a kind's builder needs: where errors point, and the list files it
/// reads (added to the files a reload watches).
pub(crate) struct Building<'a> {
    pub(crate) file: &'a Path,
    pub(crate) base: &'a Path,
    pub(crate) key: &'a str,
    pub(crate) watched: &'a mut Vec<PathBuf>,
    /// Entries read from the rule's list file, when it has one.
    pub(crate) listed: Option<usize>,
    /// That file, resolved.
    pub(crate) list_file: Option<PathBuf>,
}

impl Building<'_> {
    /// An error at `field` of this rule.
    pub(crate) fn err(&self, field: &str, reason: impl Into<String>) -> SettingsError {
        SettingsError::new(self.file, format!("{}.{field}", self.key), reason.into())
    }

    /// Reads the list file `list` given as `field`; remembers its size and
    /// path.
    pub(crate) fn read_list(
        &mut self,
        field: &str,
        list: &Path,
    ) -> Result<Vec<String>, SettingsError> {
        let entries =
            super::list::read_list(self.file, self.base, self.key, field, list, self.watched)?;
        self.listed = Some(entries.len());
        self.list_file = self.watched.last().cloned();
        Ok(entries)
    }
}
