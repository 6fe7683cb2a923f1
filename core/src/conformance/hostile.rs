//! Generated cases: requests that depend on the endpoint's token and clock
//! (forged, stale and future Signs), bodies too large to keep in the vector
//! files, and what only HTTP shows (the method, keep-alive).

use super::template::{Method, Param, QueryTemplate};
use super::{Case, Plan, Source, Target};
use crate::testing::{body_with_items, SAMPLE_BODY};
use crate::CallbackError;

/// How far stale and future `RequestTime`s are from now: far outside any
/// sane window, and any clock skew.
const FAR: i64 = 3600;

/// `case` when requests are signed; skipped, saying why, when they are not
/// (it checks authentication).
pub(super) fn needs_token(target: &Target, case: Case) -> Case {
    if target.signs() {
        case
    } else {
        case.skip("no token given: the endpoint's authentication is not checked")
    }
}

pub(super) fn cases(target: &Target) -> Vec<Case> {
    let signed = |case: Case| needs_token(target, case);
    let limits = target.limits();
    vec![
        signed(case(
            "hostile_sign_forged",
            "sign",
            "a Sign made with a token the endpoint does not have",
            QueryTemplate::platform(0).set("Sign", Some(Param::ForgedSign)),
            SAMPLE_BODY.as_bytes().to_vec(),
        )),
        signed(case(
            "hostile_sign_missing",
            "sign",
            "RequestTime without a Sign",
            QueryTemplate::platform(0).set("Sign", None),
            SAMPLE_BODY.as_bytes().to_vec(),
        )),
        signed(case(
            "hostile_request_time_missing",
            "sign",
            "a Sign without RequestTime",
            QueryTemplate::platform(0).set("RequestTime", None),
            SAMPLE_BODY.as_bytes().to_vec(),
        )),
        signed(case(
            "hostile_sign_stale",
            "sign",
            "a valid Sign made an hour ago (a replay)",
            QueryTemplate::platform(-FAR),
            SAMPLE_BODY.as_bytes().to_vec(),
        )),
        signed(case(
            "hostile_sign_future",
            "sign",
            "a valid Sign for an hour from now",
            QueryTemplate::platform(FAR),
            SAMPLE_BODY.as_bytes().to_vec(),
        )),
        case(
            "hostile_foreign_app_id",
            "query",
            "a signed callback for another app id",
            QueryTemplate::platform(0).set("SdkAppid", Some(Param::ForeignAppId)),
            SAMPLE_BODY.as_bytes().to_vec(),
        ),
        case(
            "hostile_sibling_command",
            "query",
            "Sns.CallbackPrevFriendAdd (a sibling callback) in the query and the body",
            QueryTemplate::platform(0).set(
                "CallbackCommand",
                Some(Param::Raw(
                    "CallbackCommand=Sns.CallbackPrevFriendAdd".to_owned(),
                )),
            ),
            SAMPLE_BODY
                .replace(
                    "Sns.CallbackPrevFriendResponse",
                    "Sns.CallbackPrevFriendAdd",
                )
                .into_bytes(),
        ),
        case(
            "hostile_body_oversized",
            "limits",
            "a valid callback padded one byte past the endpoint's body limit",
            QueryTemplate::platform(0),
            padded_body(limits.max_body_bytes.saturating_add(1)),
        ),
        case(
            "hostile_items_too_many",
            "limits",
            "one item more than the endpoint's item limit",
            QueryTemplate::platform(0),
            body_with_items("mass_responder", limits.max_items.saturating_add(1)).into_bytes(),
        ),
        case(
            "hostile_deep_nesting",
            "body",
            "an unknown field nested 100,000 levels deep",
            QueryTemplate::platform(0),
            nested_body(100_000),
        ),
        case(
            "hostile_body_binary",
            "body",
            "random bytes that are neither UTF-8 nor JSON",
            QueryTemplate::platform(0),
            (0..=255u8).rev().cycle().take(1024).collect(),
        ),
        Case {
            method: Method::Get,
            plan: Plan::Refuse(CallbackError::MethodNotAllowed {
                method: "GET".to_owned(),
            }),
            ..case(
                "transport_get",
                "transport",
                "a signed GET (the platform only POSTs)",
                QueryTemplate::platform(0),
                Vec::new(),
            )
        },
        Case {
            rounds: 3,
            ..case(
                "transport_keep_alive",
                "transport",
                "three signed callbacks on one persistent connection",
                QueryTemplate::platform(0),
                SAMPLE_BODY.as_bytes().to_vec(),
            )
        },
    ]
    .into_iter()
    .map(|case| unsigned_unless_signing(target, case))
    .collect()
}

/// `case` as sent to an endpoint without a token: no `RequestTime`, no
/// `Sign` (what the endpoint then checks is what authentication off means).
pub(super) fn unsigned_unless_signing(target: &Target, case: Case) -> Case {
    if target.signs() {
        case
    } else {
        Case {
            query: case.query.set("RequestTime", None).set("Sign", None),
            ..case
        }
    }
}

pub(super) fn case(
    name: &str,
    family: &'static str,
    description: &str,
    query: QueryTemplate,
    body: Vec<u8>,
) -> Case {
    Case {
        name: name.to_owned(),
        family,
        command: crate::command::FRIEND_RESPONSE,
        description: description.to_owned(),
        source: Source::Generated,
        rounds: 1,
        method: Method::Post,
        query,
        body,
        plan: Plan::Oracle,
    }
}

impl Case {
    pub(super) fn skip(self, reason: &str) -> Self {
        Self {
            plan: Plan::Skip(reason.to_owned()),
            ..self
        }
    }
}

/// The sample body with an unknown string field that makes it `len` bytes
/// (or the sample itself, if that is already longer).
fn padded_body(len: usize) -> Vec<u8> {
    const PREFIX: &str = r#"{"Padding":""#;
    let rest = &SAMPLE_BODY[1..];
    let fixed = PREFIX.len() + 2 + rest.len();
    let mut body = String::with_capacity(len.max(fixed));
    body.push_str(PREFIX);
    body.push_str(&"x".repeat(len.saturating_sub(fixed)));
    body.push_str("\",");
    body.push_str(rest);
    body.into_bytes()
}

/// The sample body with `{"Nested":[[[…]]]` `depth` arrays deep in front.
fn nested_body(depth: usize) -> Vec<u8> {
    let mut body = String::with_capacity(2 * depth + SAMPLE_BODY.len() + 16);
    body.push_str(r#"{"Nested":"#);
    body.push_str(&"[".repeat(depth));
    body.push_str(&"]".repeat(depth));
    body.push(',');
    body.push_str(&SAMPLE_BODY[1..]);
    body.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_bodies_have_the_length_asked_for() {
        assert_eq!(padded_body(5000).len(), 5000);
        let short = padded_body(1);
        assert!(short.len() > SAMPLE_BODY.len());
        assert!(serde_json::from_slice::<serde_json::Value>(&padded_body(4096)).is_ok());
        assert!(serde_json::from_slice::<serde_json::Value>(&short).is_ok());
    }

    #[test]
    fn nested_bodies_are_json() {
        let body = nested_body(10);
        assert!(body.starts_with(br#"{"Nested":[[[[[[[[[[]]]]]]]]]],"#));
        assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok());
    }
}
