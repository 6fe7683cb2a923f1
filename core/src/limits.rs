//! The body's size limits, as core applies them and as a config file writes
//! them. A leaf module: the body parser reads it without the rest of the
//! configuration.

/// Size limits on the body. The defaults accept anything the platform
/// documents, since a refused genuine callback is let through by the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest body in bytes. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Most `ResponseFriendItem` entries. Default 1000 (the platform gives no figure).
    pub max_items: usize,
    /// Longest UserID (`Requester_Account`, `From_Account`, `To_Account`) in bytes. Default 32.
    pub max_user_id_bytes: usize,
    /// Longest `Remark` in bytes. Default 96.
    pub max_remark_bytes: usize,
    /// Longest `TagName` in bytes. Default 96 (the client SDK's figure; the server docs say 30).
    pub max_tag_name_bytes: usize,
    /// Deepest nesting of arrays and objects, the top-level object being 1. Default 32.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1 << 20,
            max_items: 1000,
            max_user_id_bytes: 32,
            max_remark_bytes: 96,
            max_tag_name_bytes: 96,
            max_depth: 32,
        }
    }
}

/// Limits as written in a config file (server TOML, vector JSON): any field
/// left out keeps its default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitOverrides {
    /// See [`Limits::max_body_bytes`].
    pub max_body_bytes: Option<usize>,
    /// See [`Limits::max_items`].
    pub max_items: Option<usize>,
    /// See [`Limits::max_user_id_bytes`].
    pub max_user_id_bytes: Option<usize>,
    /// See [`Limits::max_remark_bytes`].
    pub max_remark_bytes: Option<usize>,
    /// See [`Limits::max_tag_name_bytes`].
    pub max_tag_name_bytes: Option<usize>,
    /// See [`Limits::max_depth`].
    pub max_depth: Option<usize>,
}

impl LimitOverrides {
    /// `base` with the fields given here replaced.
    pub fn apply(&self, base: Limits) -> Limits {
        Limits {
            max_body_bytes: self.max_body_bytes.unwrap_or(base.max_body_bytes),
            max_items: self.max_items.unwrap_or(base.max_items),
            max_user_id_bytes: self.max_user_id_bytes.unwrap_or(base.max_user_id_bytes),
            max_remark_bytes: self.max_remark_bytes.unwrap_or(base.max_remark_bytes),
            max_tag_name_bytes: self.max_tag_name_bytes.unwrap_or(base.max_tag_name_bytes),
            max_depth: self.max_depth.unwrap_or(base.max_depth),
        }
    }
}
