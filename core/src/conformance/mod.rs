//! The platform's side of the protocol, for testing any endpoint over HTTP
//! (`friendgate conform`): the cases to send and how to judge the answers.
//!
//! The cases are the shared vectors (`tests/vectors/`), translated to the
//! endpoint's app id, token and clock, plus generated hostile requests
//! ([`cases`]). What each case must get back comes from core itself: the
//! translated request is verified by core with the endpoint's settings, so a
//! valid callback must be answered `OK` with one `ResultItem` per item, and
//! anything core refuses must never be answered with an `OK` that allows
//! ([`judge`]). Decisions are the endpoint's own: the judge checks docs/protocol.md's
//! rules (codes 0 or in `[38000, 39000]`, order, `To_Account`), not bytes.

mod hostile;
mod hostile_add;
mod judge;
mod one_url;
mod template;

pub use judge::{
    judge, Expect, Level, NoAnswer, Observed, Rules, Verdict, HARDENINGS, PROTOCOL_FACTS,
};
pub use template::Method;

use crate::config::{Config, Limits, Token};
use crate::testing::vectors::{embedded, VectorCase};
use crate::{route_query, verify_for, FriendAdd, FriendCommand, FriendResponse, Routed};
use template::QueryTemplate;

/// The endpoint under test, as the platform knows it: core configured like
/// the endpoint (app id, tokens, window, limits). The first token signs every
/// request; with no token, requests go unsigned.
#[derive(Debug, Clone)]
pub struct Target {
    config: Config,
}

impl Target {
    /// The endpoint configured as `config`.
    pub fn new(config: Config) -> Self {
        Self { config }
    }

    /// The app id requests are sent for (the first of the config).
    pub fn app_id(&self) -> u64 {
        self.config.app_ids().first().copied().unwrap_or_default()
    }

    /// The token that signs requests, if any.
    pub fn token(&self) -> Option<&Token> {
        self.config.tokens().first()
    }

    /// Whether requests are signed.
    pub fn signs(&self) -> bool {
        self.config.authentication_on()
    }

    /// The `RequestTime` window, in seconds.
    pub fn window_seconds(&self) -> u64 {
        self.config.window_seconds()
    }

    /// Core configured like the endpoint: the oracle of every case.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The limits the endpoint is expected to enforce.
    pub fn limits(&self) -> &Limits {
        self.config.limits()
    }
}

/// Where a case comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A shared vector, from this file of `tests/vectors/`.
    Vector(String),
    /// Generated here: a hostile or transport case the vectors cannot hold.
    Generated,
}

/// One thing the simulator does to the endpoint.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique name (the vector's name, or `hostile_…`/`transport_…`).
    pub name: String,
    /// The case family: the vector file's stem, or the kind of generated case.
    pub family: &'static str,
    /// The `CallbackCommand` the case sends.
    pub command: &'static str,
    /// What the case shows.
    pub description: String,
    /// Where the case comes from.
    pub source: Source,
    /// Requests sent one after another on one connection (more than one
    /// checks keep-alive).
    pub rounds: usize,
    method: Method,
    query: QueryTemplate,
    body: Vec<u8>,
    plan: Plan,
}

#[derive(Debug, Clone)]
enum Plan {
    /// Core, configured like the endpoint, says what must come back.
    Oracle,
    /// Core's refusal for something `verify` never sees (the HTTP method).
    Refuse(crate::CallbackError),
    /// Cannot be run against this endpoint, for this reason.
    Skip(String),
}

/// One request, ready to send.
#[derive(Debug, Clone)]
pub struct Prepared<'a> {
    /// HTTP method.
    pub method: Method,
    /// The query string, without `?`.
    pub query: String,
    /// The body bytes.
    pub body: &'a [u8],
    /// What must come back.
    pub expect: Expect,
}

impl Case {
    /// Why the case cannot run against this endpoint, if it cannot.
    pub fn skipped(&self) -> Option<&str> {
        match &self.plan {
            Plan::Skip(reason) => Some(reason),
            Plan::Oracle | Plan::Refuse(_) => None,
        }
    }

    /// The request for the clock `now` (Unix seconds) and what must come
    /// back; None for a skipped case.
    pub fn prepare(&self, target: &Target, now: u64) -> Option<Prepared<'_>> {
        let query = self.query.render(target, now);
        let expect = match &self.plan {
            Plan::Skip(_) => return None,
            Plan::Refuse(error) => Expect::refuse(error),
            // As a gateway at the one URL sees it: any command is
            // authenticated first; only this callback goes on to `verify`.
            Plan::Oracle => match route_query(target.config(), &query, now) {
                Err(error) => Expect::refuse(&error),
                Ok(Routed::FriendResponse(_)) => {
                    oracle::<FriendResponse>(target, &query, &self.body, now)
                }
                Ok(Routed::FriendAdd(_)) => oracle::<FriendAdd>(target, &query, &self.body, now),
                Ok(_) => Expect::Processed,
            },
        };
        Some(Prepared {
            method: self.method,
            query,
            body: &self.body,
            expect,
        })
    }
}

/// What core, configured like the endpoint, says a friend callback of
/// command `K` must get back.
fn oracle<K: FriendCommand>(target: &Target, query: &str, body: &[u8], now: u64) -> Expect {
    match verify_for::<K>(target.config(), query, body, now) {
        Ok(callback) => Expect::Answer {
            to_accounts: K::items(&callback)
                .iter()
                .map(|item| K::to_account(item).to_owned())
                .collect(),
            absent: absent_fields::<K>(body),
        },
        Err(error) => Expect::refuse(&error),
    }
}

/// The documented fields a valid body of command `K` may lack (see
/// [`Expect::Answer`]): top-level, then per item.
fn optional_fields<K: FriendCommand>() -> (&'static [&'static str], &'static [&'static str]) {
    if K::NAME == FriendAdd::NAME {
        (
            &["Requester_Account", "EventTime", "AddType", "ForceAddFlags"],
            &["Remark", "GroupName", "AddSource", "AddWording"],
        )
    } else {
        (&["Requester_Account", "EventTime"], &["Remark", "TagName"])
    }
}

/// The documented fields a valid body lacks (see [`Expect::Answer`]).
fn absent_fields<K: FriendCommand>(body: &[u8]) -> Vec<&'static str> {
    let Ok(serde_json::Value::Object(root)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return Vec::new();
    };
    let (top, per_item) = optional_fields::<K>();
    let mut absent: Vec<&'static str> = top
        .iter()
        .copied()
        .filter(|field| !root.contains_key(*field))
        .collect();
    let items = root.get(K::ITEMS_FIELD).and_then(|v| v.as_array());
    for field in per_item {
        let missing = items.is_some_and(|items| {
            items
                .iter()
                .any(|item| item.as_object().is_some_and(|i| !i.contains_key(*field)))
        });
        if missing {
            absent.push(field);
        }
    }
    absent
}

/// Every case for `target`: the shared vectors translated to it, then the
/// generated hostile and transport cases. Fails only if the vectors compiled
/// into this library do not parse.
pub fn cases(target: &Target) -> Result<Vec<Case>, String> {
    let mut cases: Vec<Case> = embedded()?
        .iter()
        .map(|vector| from_vector(vector, target))
        .collect();
    cases.extend(hostile::cases(target));
    cases.extend(hostile_add::cases(target));
    Ok(cases)
}

/// The cases of `friendgate conform --one-url`, for an endpoint at the app's
/// one callback URL: signed callbacks of other documented commands (with the
/// documentation's bodies), which must be answered `OK`, and forged, stale
/// and foreign ones, which never may.
pub fn one_url_cases(target: &Target) -> Vec<Case> {
    one_url::cases(target)
}

/// The families of [`cases`], in the order they first appear.
pub fn families(cases: &[Case]) -> Vec<&'static str> {
    let mut families: Vec<&'static str> = Vec::new();
    for case in cases {
        if !families.contains(&case.family) {
            families.push(case.family);
        }
    }
    families
}

const SIGNATURE_ERRORS: [&str; 4] = [
    "missing_signature",
    "bad_signature",
    "request_time_too_old",
    "request_time_in_future",
];

fn from_vector(vector: &VectorCase, target: &Target) -> Case {
    let query = QueryTemplate::from_vector(vector, target);
    let vector_signs = vector.config.authentication_on();
    let plan = if !target.signs()
        && vector_signs
        && vector
            .expect
            .error
            .as_deref()
            .is_some_and(|code| SIGNATURE_ERRORS.contains(&code))
    {
        Plan::Skip("no token given: the endpoint's authentication is not checked".to_owned())
    } else if target.signs() && !vector_signs && query.has_auth_parameters() {
        Plan::Skip(
            "shows authentication off (sends RequestTime or Sign without a token); \
             this endpoint has a token"
                .to_owned(),
        )
    } else {
        Plan::Oracle
    };
    let query = if target.signs() && !vector_signs && !query.has_auth_parameters() {
        query.signed_now()
    } else {
        query
    };
    Case {
        name: vector.name.clone(),
        family: family_of(&vector.file),
        command: vector.command,
        description: vector.description.clone(),
        source: Source::Vector(vector.file.clone()),
        rounds: 1,
        method: Method::Post,
        query,
        body: vector.body.clone(),
        plan,
    }
}

/// The family of a vectors file: its stem, as a `'static` name.
fn family_of(file: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "actions",
        "body",
        "decisions",
        "limits",
        "platform",
        "platforms",
        "query",
        "sign",
        "window",
    ];
    // Friend requests are one family: the report gives them their own line.
    if file.starts_with("friend_add/") {
        return "friend_add";
    }
    let stem = file.strip_suffix(".json").unwrap_or(file);
    KNOWN
        .iter()
        .find(|known| **known == stem)
        .copied()
        .unwrap_or("other")
}

impl Expect {
    fn refuse(error: &crate::CallbackError) -> Self {
        Self::Refuse {
            status: error.http_status(),
            error_code: error.error_code(),
            code: error.code(),
            message: error.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
