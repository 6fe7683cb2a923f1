//! What the configuration and the files it names share: the error that
//! says which file and key are at fault, and how a path written in the
//! config is resolved. Its own module so that `settings` (the file) and
//! `policy` (the rules and their list files) both use it without importing
//! each other.

use std::path::{Path, PathBuf};

use thiserror::Error;

/// A configuration file that cannot be used.
#[derive(Debug, Error)]
#[error("{file}: {key}: {reason}")]
pub struct SettingsError {
    /// The file at fault (the config, or a file it names).
    pub file: PathBuf,
    /// The key at fault, as a TOML path (`callback.tokens[0]`).
    pub key: String,
    /// What is wrong.
    pub reason: String,
}

impl SettingsError {
    pub(crate) fn new(file: &Path, key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            key: key.into(),
            reason: reason.into(),
        }
    }
}

/// Resolves `path` against the config file's folder.
pub(crate) fn resolve(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        base.join(path)
    }
}
