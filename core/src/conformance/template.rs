//! Query strings that follow the endpoint and the clock: a vector's query
//! with its app id, `RequestTime` and `Sign` re-made for the endpoint under
//! test at the moment of sending, everything else kept byte for byte.

use super::Target;
use crate::sign::compute_sign;
use crate::testing::vectors::VectorCase;

/// The HTTP method of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `POST`, as the platform sends.
    Post,
    /// `GET`, which the platform never sends.
    Get,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Get => "GET",
        }
    }
}

/// One `key=value` of a query, or the part that follows the endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Param {
    /// Sent exactly as written.
    Raw(String),
    /// `SdkAppid=` the endpoint's app id.
    AppId,
    /// `SdkAppid=` an app id that is not the endpoint's.
    ForeignAppId,
    /// `RequestTime=` now plus `offset` seconds, with `zeros` leading zeros.
    Time { offset: i64, zeros: usize },
    /// `Sign=` the endpoint token's Sign over the `RequestTime` sent
    /// (`original` when requests are unsigned).
    Sign { upper: bool, original: String },
    /// `Sign=` the Sign of a token the endpoint does not have.
    ForgedSign,
}

/// A query string made at the moment of sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct QueryTemplate {
    question_mark: bool,
    params: Vec<Param>,
}

/// The token of forged Signs: never an endpoint's.
const FORGER_TOKEN: &str = "friendgate-conform-forger";

impl QueryTemplate {
    pub(super) fn new(params: Vec<Param>) -> Self {
        Self {
            question_mark: false,
            params,
        }
    }

    /// The platform's query: app id, command, `contenttype=json`, client IP,
    /// platform, then `RequestTime` and `Sign` at `offset` seconds from now.
    pub(super) fn platform(offset: i64) -> Self {
        Self::new(vec![
            Param::AppId,
            Param::Raw("CallbackCommand=Sns.CallbackPrevFriendResponse".to_owned()),
            Param::Raw("contenttype=json".to_owned()),
            Param::Raw("ClientIP=127.0.0.1".to_owned()),
            Param::Raw("OptPlatform=iOS".to_owned()),
            Param::Time { offset, zeros: 0 },
            Param::Sign {
                upper: false,
                original: String::new(),
            },
        ])
    }

    /// Replaces every parameter `key` with `param` (dropping it if None).
    pub(super) fn set(mut self, key: &str, param: Option<Param>) -> Self {
        let mut param = param;
        self.params.retain_mut(|existing| {
            if existing.key() != key {
                return true;
            }
            match param.take() {
                Some(new) => {
                    *existing = new;
                    true
                }
                None => false,
            }
        });
        self
    }

    /// The vector's query for `target`: its app id where the vector's was
    /// accepted, `RequestTime` at the same distance from now as from the
    /// vector's clock, and Signs that were valid re-made with the target's
    /// token (kept as sent when they were not: they stay invalid).
    pub(super) fn from_vector(vector: &VectorCase, target: &Target) -> Self {
        let (question_mark, query) = match vector.query.strip_prefix('?') {
            Some(rest) => (true, rest),
            None => (false, vector.query.as_str()),
        };
        let times: Vec<&str> = pairs(query)
            .filter(|(key, _)| *key == "RequestTime")
            .map(|(_, value)| value)
            .collect();
        let target_app_id = target.app_id().to_string();
        let params = pairs(query)
            .map(|(key, value)| match key {
                "SdkAppid" if value == target_app_id => {
                    if vector
                        .config
                        .app_ids()
                        .iter()
                        .any(|id| id.to_string() == value)
                    {
                        Param::AppId
                    } else {
                        Param::ForeignAppId
                    }
                }
                "SdkAppid"
                    if vector
                        .config
                        .app_ids()
                        .iter()
                        .any(|id| id.to_string() == value) =>
                {
                    Param::AppId
                }
                "RequestTime" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                    let sent: i64 = value.parse().unwrap_or(i64::MAX);
                    let now = i64::try_from(vector.now).unwrap_or(i64::MAX);
                    Param::Time {
                        offset: sent.saturating_sub(now),
                        zeros: value.len() - value.trim_start_matches('0').len().max(1),
                    }
                }
                "Sign" => match valid_sign(vector, &times, value) {
                    Some(upper) => Param::Sign {
                        upper,
                        original: value.to_owned(),
                    },
                    None => Param::Raw(format!("{key}={value}")),
                },
                _ => Param::Raw(format!("{key}={value}")),
            })
            .collect();
        Self {
            question_mark,
            params,
        }
    }

    /// Whether the query carries `RequestTime` or `Sign`.
    pub(super) fn has_auth_parameters(&self) -> bool {
        self.params
            .iter()
            .any(|param| matches!(param.key(), "RequestTime" | "Sign"))
    }

    /// The query with `RequestTime` now and its `Sign` appended.
    pub(super) fn signed_now(mut self) -> Self {
        self.params.push(Param::Time {
            offset: 0,
            zeros: 0,
        });
        self.params.push(Param::Sign {
            upper: false,
            original: String::new(),
        });
        self
    }

    /// The query string for `target` at `now` (Unix seconds).
    pub(super) fn render(&self, target: &Target, now: u64) -> String {
        let time = self.params.iter().find_map(|param| match param {
            Param::Time { offset, zeros } => Some(render_time(
                now,
                away_from_edge(*offset, target.window_seconds()),
                *zeros,
            )),
            _ => None,
        });
        let time = time.unwrap_or_default();
        let mut out = String::new();
        if self.question_mark {
            out.push('?');
        }
        for (index, param) in self.params.iter().enumerate() {
            if index > 0 {
                out.push('&');
            }
            match param {
                Param::Raw(raw) => out.push_str(raw),
                Param::AppId => {
                    out.push_str("SdkAppid=");
                    out.push_str(&target.app_id().to_string());
                }
                Param::ForeignAppId => {
                    out.push_str("SdkAppid=");
                    out.push_str(&target.app_id().wrapping_add(1).to_string());
                }
                Param::Time { .. } => {
                    out.push_str("RequestTime=");
                    out.push_str(&time);
                }
                Param::Sign { upper, original } => {
                    out.push_str("Sign=");
                    match target.token() {
                        Some(token) => {
                            let sign = compute_sign(token.expose(), &time);
                            out.push_str(&if *upper {
                                sign.to_ascii_uppercase()
                            } else {
                                sign
                            });
                        }
                        None => out.push_str(original),
                    }
                }
                Param::ForgedSign => {
                    out.push_str("Sign=");
                    out.push_str(&compute_sign(FORGER_TOKEN, &time));
                }
            }
        }
        out
    }
}

impl Param {
    fn key(&self) -> &str {
        match self {
            Self::Raw(raw) => raw.split_once('=').map_or(raw.as_str(), |(key, _)| key),
            Self::AppId | Self::ForeignAppId => "SdkAppid",
            Self::Time { .. } => "RequestTime",
            Self::Sign { .. } | Self::ForgedSign => "Sign",
        }
    }
}

/// `key=value` pairs of a raw query, undecoded (empty segments dropped).
fn pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|segment| !segment.is_empty())
        .map(|segment| segment.split_once('=').unwrap_or((segment, "")))
}

/// Whether `sign` is valid for one of the vector's tokens over one of its
/// `RequestTime`s; `Some(true)` when it is in upper case.
fn valid_sign(vector: &VectorCase, times: &[&str], sign: &str) -> Option<bool> {
    let valid = vector.config.tokens().iter().any(|token| {
        times
            .iter()
            .any(|time| compute_sign(token.expose(), time).eq_ignore_ascii_case(sign))
    });
    valid.then(|| sign.bytes().any(|b| b.is_ascii_uppercase()))
}

/// Over HTTP the clocks and the transit blur the edge of the window, so an
/// offset within 2 s of it moves 5 s away, to the side it was on. The vectors
/// test the edge exactly, in process.
fn away_from_edge(offset: i64, window: u64) -> i64 {
    let window = i64::try_from(window).unwrap_or(i64::MAX);
    let distance = offset.saturating_abs();
    if distance.saturating_sub(window).abs() > 2 {
        return offset;
    }
    let moved = if distance <= window {
        window.saturating_sub(5).max(0)
    } else {
        window.saturating_add(5)
    };
    if offset < 0 {
        -moved
    } else {
        moved
    }
}

fn render_time(now: u64, offset: i64, zeros: usize) -> String {
    let now = i64::try_from(now).unwrap_or(i64::MAX);
    let time = now.saturating_add(offset).max(0);
    format!("{}{time}", "0".repeat(zeros))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_near_the_edge_move_away_from_it() {
        assert_eq!(away_from_edge(-60, 60), -55);
        assert_eq!(away_from_edge(-61, 60), -65);
        assert_eq!(away_from_edge(60, 60), 55);
        assert_eq!(away_from_edge(62, 60), 65);
        assert_eq!(away_from_edge(1, 0), 5);
        assert_eq!(away_from_edge(0, 0), 0);
        assert_eq!(away_from_edge(3, 0), 3);
        assert_eq!(away_from_edge(-86_400, 60), -86_400);
        assert_eq!(away_from_edge(0, 60), 0);
    }

    #[test]
    fn times_keep_their_leading_zeros() {
        assert_eq!(render_time(100, -10, 0), "90");
        assert_eq!(render_time(100, 0, 2), "00100");
        assert_eq!(render_time(5, -10, 0), "0");
    }
}
