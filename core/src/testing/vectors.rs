//! Loads the shared conformance vectors (`tests/vectors/*.json`, format in
//! `tests/vectors/README.md`) for Rust runners: the core's own test, the
//! server's HTTP test, and any Rust host that wants to check itself.

use std::path::{Path, PathBuf};

use base64::Engine;
use serde::Deserialize;

use crate::config::Config;
use crate::decision::{DeciderError, Decision};
use crate::spec::ConfigSpec;

/// The vectors folder of this source tree.
pub fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

/// One conformance case, ready to run.
#[derive(Debug, Clone)]
pub struct VectorCase {
    /// The `CallbackCommand` the case is for: friend responses for the
    /// files at the top, friend requests for those in `friend_add/`.
    pub command: &'static str,
    /// File the case came from.
    pub file: String,
    /// Unique name.
    pub name: String,
    /// What the case shows.
    pub description: String,
    /// The configuration to run it under.
    pub config: Config,
    /// The injected clock, Unix seconds.
    pub now: u64,
    /// Raw query string.
    pub query: String,
    /// Raw body bytes.
    pub body: Vec<u8>,
    /// One script per item (empty: allow all).
    pub decisions: Vec<Script>,
    /// What must come back.
    pub expect: Expectation,
}

/// What a case must answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// HTTP status.
    pub status: u16,
    /// Core's error code, if the answer is `FAIL`.
    pub error: Option<String>,
    /// The exact answer bytes.
    pub body: String,
}

/// A scripted decision for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Script {
    /// Allow.
    Allow,
    /// Reject through [`Decision::reject`] (which refuses codes out of range).
    Reject {
        /// The code asked for.
        code: i64,
        /// The reason.
        info: String,
    },
    /// The decider fails with this message.
    Fail(String),
}

impl Script {
    /// What a decider following this script returns.
    pub fn outcome(&self) -> Result<Decision, DeciderError> {
        match self {
            Self::Allow => Ok(Decision::allow()),
            Self::Reject { code, info } => Ok(Decision::reject(*code, info.clone())?),
            Self::Fail(message) => Err(DeciderError::new(message.clone())),
        }
    }
}

impl VectorCase {
    /// The scripted outcome for item `index` (allow when unscripted).
    pub fn outcome(&self, index: usize) -> Result<Decision, DeciderError> {
        self.decisions
            .get(index)
            .map_or(Ok(Decision::allow()), Script::outcome)
    }
}

#[derive(Deserialize)]
struct FileDoc {
    cases: Vec<CaseDoc>,
}

#[derive(Deserialize)]
struct CaseDoc {
    name: String,
    description: String,
    config: ConfigSpec,
    now: u64,
    query: String,
    body: Option<String>,
    body_base64: Option<String>,
    #[serde(default)]
    decisions: Vec<ScriptDoc>,
    expect: ExpectDoc,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ScriptDoc {
    Word(String),
    Reject { reject: RejectDoc },
    Fail { fail: String },
}

#[derive(Deserialize)]
struct RejectDoc {
    code: i64,
    info: String,
}

#[derive(Deserialize)]
struct ExpectDoc {
    status: u16,
    error: Option<String>,
    body: String,
}

/// The folder of friend-request vectors inside the vectors folder.
pub const FRIEND_ADD_DIR: &str = "friend_add";

/// Loads every `*.json` file of `dir` (friend responses), then of its
/// [`FRIEND_ADD_DIR`] folder (friend requests, named `friend_add/<file>`),
/// each in file-name order.
pub fn load_dir(dir: &Path) -> Result<Vec<VectorCase>, String> {
    let mut cases = load_files(dir, "")?;
    let add = dir.join(FRIEND_ADD_DIR);
    if add.is_dir() {
        cases.extend(load_files(&add, &format!("{FRIEND_ADD_DIR}/"))?);
    }
    Ok(cases)
}

fn load_files(dir: &Path, prefix: &str) -> Result<Vec<VectorCase>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for path in files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = format!("{prefix}{name}");
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
        cases.extend(parse_file(&file, &text)?);
    }
    Ok(cases)
}

/// The command of the cases of `file` (see [`VectorCase::command`]).
fn command_of(file: &str) -> &'static str {
    match file.strip_prefix(FRIEND_ADD_DIR) {
        Some(rest) if rest.starts_with('/') => crate::command::FRIEND_ADD,
        _ => crate::command::FRIEND_RESPONSE,
    }
}

/// The vectors of this source tree, compiled into the library (for tools
/// such as `friendgate conform` that run far from the source tree).
#[cfg(feature = "conformance")]
pub fn embedded() -> Result<Vec<VectorCase>, String> {
    macro_rules! files {
        ($($name:literal),* $(,)?) => {
            [$(($name, include_str!(concat!("../../../tests/vectors/", $name)))),*]
        };
    }
    // In file-name order, like `load_dir`.
    let files = files!(
        "actions.json",
        "body.json",
        "decisions.json",
        "limits.json",
        "platform.json",
        "platforms.json",
        "query.json",
        "sign.json",
        "window.json",
        "friend_add/auth.json",
        "friend_add/body.json",
        "friend_add/decisions.json",
        "friend_add/limits.json",
        "friend_add/platform.json",
        "friend_add/values.json",
    );
    let mut cases = Vec::new();
    for (file, text) in files {
        cases.extend(parse_file(file, text)?);
    }
    Ok(cases)
}

/// Parses one vectors file (`file` names it in errors and in each case).
pub fn parse_file(file: &str, text: &str) -> Result<Vec<VectorCase>, String> {
    let doc: FileDoc = serde_json::from_str(text).map_err(|e| format!("{file}: {e}"))?;
    doc.cases
        .into_iter()
        .map(|case| {
            let name = case.name.clone();
            build_case(file, case).map_err(|e| format!("{file}/{name}: {e}"))
        })
        .collect()
}

fn build_case(file: &str, case: CaseDoc) -> Result<VectorCase, String> {
    let body = match (case.body, case.body_base64) {
        (Some(text), None) => text.into_bytes(),
        (None, Some(b64)) => base64::engine::general_purpose::STANDARD
            .decode(b64)
            .map_err(|e| e.to_string())?,
        _ => return Err("needs exactly one of body and body_base64".to_owned()),
    };
    let decisions = case
        .decisions
        .into_iter()
        .map(|script| match script {
            ScriptDoc::Word(word) if word == "allow" => Ok(Script::Allow),
            ScriptDoc::Word(word) => Err(format!("unknown decision script `{word}`")),
            ScriptDoc::Reject { reject } => Ok(Script::Reject {
                code: reject.code,
                info: reject.info,
            }),
            ScriptDoc::Fail { fail } => Ok(Script::Fail(fail)),
        })
        .collect::<Result<_, String>>()?;
    Ok(VectorCase {
        command: command_of(file),
        file: file.to_owned(),
        name: case.name,
        description: case.description,
        config: build_config(case.config)?,
        now: case.now,
        query: case.query,
        body,
        decisions,
        expect: Expectation {
            status: case.expect.status,
            error: case.expect.error,
            body: case.expect.body,
        },
    })
}

fn build_config(doc: ConfigSpec) -> Result<Config, String> {
    doc.build().map_err(|e| e.to_string())
}
