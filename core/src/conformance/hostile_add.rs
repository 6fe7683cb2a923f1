//! Generated friend-request cases (`Sns.CallbackPrevFriendAdd`), where most
//! abuse comes in: forged, stale and foreign requests that must never be
//! answered with an `OK` that allows, and the shapes a spam ring sends that
//! must still be decided (an over-long greeting) or refused (more items
//! than the limit, a greeting given twice).

use super::hostile::{case, needs_token, unsigned_unless_signing};
use super::template::{Param, QueryTemplate};
use super::{Case, Target};
use crate::command::FRIEND_ADD;
use crate::testing::{add_body_with_items, SAMPLE_ADD_BODY};

const FAR: i64 = 3600;

/// A friend request's query at `offset` seconds from now.
fn query(offset: i64) -> QueryTemplate {
    QueryTemplate::platform(offset).set(
        "CallbackCommand",
        Some(Param::Raw(format!("CallbackCommand={FRIEND_ADD}"))),
    )
}

fn request(
    name: &str,
    family: &'static str,
    description: &str,
    query: QueryTemplate,
    body: Vec<u8>,
) -> Case {
    Case {
        command: FRIEND_ADD,
        ..case(name, family, description, query, body)
    }
}

pub(super) fn cases(target: &Target) -> Vec<Case> {
    let signed = |case: Case| needs_token(target, case);
    let sample = || SAMPLE_ADD_BODY.as_bytes().to_vec();
    let huge_wording = SAMPLE_ADD_BODY
        .replacen("this is id1!", &"spam ".repeat(13_000), 1)
        .into_bytes();
    let twice = SAMPLE_ADD_BODY
        .replacen(
            r#""AddWording":"this is id1!""#,
            r#""AddWording":"hello","AddWording":"buy followers""#,
            1,
        )
        .into_bytes();
    let too_many = add_body_with_items("spam_ring", target.limits().max_items.saturating_add(1));
    let cases = vec![
        signed(request(
            "hostile_add_sign_forged",
            "friend_add",
            "a friend request with a Sign made with another token",
            query(0).set("Sign", Some(Param::ForgedSign)),
            sample(),
        )),
        signed(request(
            "hostile_add_sign_stale",
            "friend_add",
            "a friend request with a valid Sign made an hour ago (a replay)",
            query(-FAR),
            sample(),
        )),
        request(
            "hostile_add_foreign_app_id",
            "friend_add",
            "a signed friend request for another app id",
            query(0).set("SdkAppid", Some(Param::ForeignAppId)),
            sample(),
        ),
        request(
            "hostile_add_wording_huge",
            "friend_add",
            "a 65 KB AddWording (documented 256 bytes): still decided, one ResultItem per item",
            query(0),
            huge_wording,
        ),
        request(
            "hostile_add_wording_twice",
            "friend_add",
            "AddWording given twice in one item: a filter must not read one and the app the other",
            query(0),
            twice,
        ),
        request(
            "hostile_add_items_too_many",
            "friend_add",
            "one friend request more than the endpoint's item limit",
            query(0),
            too_many.into_bytes(),
        ),
    ];
    cases
        .into_iter()
        .map(|case| unsigned_unless_signing(target, case))
        .collect()
}
