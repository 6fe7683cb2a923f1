//! Friend requests (`Sns.CallbackPrevFriendAdd`) through the gateway's
//! rules over real HTTP: every rule kind applies to both friend commands
//! unless it names `commands`, with each command's own fields.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{add_body, body, client, config_head, results, start, write_config, TOKEN};
use friendgate_server::Gateway;

async fn gateway_with(rules: &str) -> (tempfile::TempDir, common::Running) {
    let dir = tempfile::tempdir().unwrap();
    let text = config_head(dir.path()) + rules;
    let path = write_config(dir.path(), &text);
    let running = start(Gateway::load(&path).unwrap()).await;
    (dir, running)
}

async fn post(url: String, body: String) -> Vec<u64> {
    let response = client().post(url).body(body).send().await.unwrap();
    assert_eq!(response.status(), 200);
    results(&response.text().await.unwrap())
        .into_iter()
        .map(|(code, _)| code)
        .collect()
}

const WORDS: &str = "[[rule]]\nname = \"spam-words\"\nkind = \"words\"\nwords = [\"free money\", \"加微信\"]\nconfusables = true\ncode = 38020\n";

#[tokio::test]
async fn a_listed_word_in_add_wording_refuses_that_request_whatever_its_spelling() {
    let (_dir, running) = gateway_with(WORDS).await;
    let long = format!("{} FREE money", "x".repeat(1000));
    let items = [
        ("bob", "", "", "hello, nice to meet you"),
        ("carol", "", "", "Ｆｒｅｅ  Ｍｏｎｅｙ here"),
        ("dave", "", "", "加微信吗"),
        ("erin", "", "", long.as_str()),
        ("frank", "", "", "fr\u{200b}ee mоney"),
    ];
    let codes = post(running.signed_add(TOKEN), add_body("mallory", &items)).await;
    // Full-width, zero-width and Cyrillic spellings are caught; a
    // 1,000-byte greeting is decided, not refused; the others pass, in order.
    assert_eq!(codes[0], 0);
    assert_eq!(codes[1], 38020, "full-width");
    assert_eq!(codes[2], 38020, "CJK");
    assert_eq!(
        codes[3], 38020,
        "over the documented 256 bytes, still decided"
    );
    assert_eq!(codes[4], 38020, "zero-width and confusable letters");
    assert_eq!(codes.len(), 5);
    // Remark and GroupName are read too; a response's TagName field is not
    // a request's.
    let codes = post(
        running.signed_add(TOKEN),
        add_body(
            "mallory",
            &[
                ("g", "", "free money group", "hi"),
                ("r", "free money", "", "hi"),
            ],
        ),
    )
    .await;
    assert_eq!(codes, [38020, 38020]);
    // The same rule still reads a friend response's Remark.
    let codes = post(
        running.signed(TOKEN),
        body("alice", &[("bob", "free money", "Response_Action_Agree")]),
    )
    .await;
    assert_eq!(codes, [38020]);
}

#[tokio::test]
async fn rules_name_their_commands_and_fields() {
    let rules = "[[rule]]\nname = \"requests-only\"\nkind = \"accounts\"\nfield = \"to\"\naccounts = [\"vip\"]\ncommands = [\"Sns.CallbackPrevFriendAdd\"]\ncode = 38030\n\n\
                 [[rule]]\nname = \"sources\"\nkind = \"words\"\nwords = [\"hologram\"]\nfields = [\"AddSource\"]\ncode = 38031\n\n\
                 [[rule]]\nname = \"one-way\"\nkind = \"action\"\nactions = [\"Add_Type_Single\"]\ndecision = \"reject\"\ncode = 38032\n";
    let (_dir, running) = gateway_with(rules).await;
    // `field = "to"` is the account asked; the rule skips friend responses.
    let codes = post(
        running.signed_add(TOKEN),
        add_body("alice", &[("vip", "", "", ""), ("bob", "", "", "")]),
    )
    .await;
    assert_eq!(codes, [38030, 0]);
    let codes = post(
        running.signed(TOKEN),
        body("alice", &[("vip", "", "Response_Action_Agree")]),
    )
    .await;
    assert_eq!(codes, [0]);
    // A words rule on AddSource; an action rule on AddType.
    let source = add_body("alice", &[("bob", "", "", "")])
        .replace("AddSource_Type_Android", "AddSource_Type_Hologram");
    assert_eq!(post(running.signed_add(TOKEN), source).await, [38031]);
    let single =
        add_body("alice", &[("bob", "", "", "")]).replace("Add_Type_Both", "Add_Type_Single");
    assert_eq!(post(running.signed_add(TOKEN), single).await, [38032]);
}

#[tokio::test]
async fn a_rate_limit_counts_requests_per_from_account_in_its_own_bucket_unless_shared() {
    let rules = "[[rule]]\nname = \"mass\"\nkind = \"rate_limit\"\nmax = 3\nper_seconds = 3600\ncode = 38040\n\n\
                 [[rule]]\nname = \"mass-shared\"\nkind = \"rate_limit\"\nmax = 5\nper_seconds = 3600\nbucket = \"shared\"\ncode = 38041\n";
    let (_dir, running) = gateway_with(rules).await;
    let four: Vec<(&str, &str, &str, &str)> = ["a", "b", "c", "d"]
        .iter()
        .map(|to| (*to, "", "", "hi"))
        .collect();
    let codes = post(running.signed_add(TOKEN), add_body("spammer", &four)).await;
    assert_eq!(
        codes,
        [0, 0, 0, 38040],
        "three requests, then the per-command bucket is empty"
    );
    // Another account has its own buckets.
    let codes = post(running.signed_add(TOKEN), add_body("alice", &four[..1])).await;
    assert_eq!(codes, [0]);
    // Friend responses have their own `mass` bucket, but share
    // `mass-shared`, which the requests above took three of five from.
    let accept = [
        ("x", "", "Response_Action_Agree"),
        ("y", "", "Response_Action_Agree"),
        ("z", "", "Response_Action_Agree"),
    ];
    let codes = post(running.signed(TOKEN), body("spammer", &accept)).await;
    assert_eq!(codes, [0, 0, 38041]);
}
