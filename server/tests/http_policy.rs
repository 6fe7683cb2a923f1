//! Each policy rule over real HTTP, configured from a TOML file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{body, client, config_head, results, start, write_config, TOKEN};
use friendgate_server::Gateway;

const AGREE: &str = "Response_Action_Agree";
const ADD: &str = "Response_Action_AgreeAndAdd";
const REJECT: &str = "Response_Action_Reject";

async fn gateway_with(rules: &str) -> (tempfile::TempDir, common::Running) {
    let dir = tempfile::tempdir().unwrap();
    let text = config_head(dir.path()) + rules;
    std::fs::write(
        dir.path().join("blocked.txt"),
        "# comment\nspammer\n\nbanned\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("words.txt"), "Free Money\nÄRGER\n加微信\n").unwrap();
    let path = write_config(dir.path(), &text);
    let running = start(Gateway::load(&path).unwrap()).await;
    (dir, running)
}

async fn post(running: &common::Running, body: String) -> Vec<(u64, String)> {
    let response = client()
        .post(running.signed(TOKEN))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    results(&response.text().await.unwrap())
}

fn codes(results: &[(u64, String)]) -> Vec<u64> {
    results.iter().map(|(code, _)| *code).collect()
}

#[tokio::test]
async fn account_block_list_checks_from_and_to() {
    let (_dir, running) = gateway_with(
        "[[rule]]\nname = \"blocked\"\nkind = \"accounts\"\naccounts = [\"inline_bad\"]\naccounts_file = \"blocked.txt\"\ncode = 38001\ninfo = \"account is blocked\"\n",
    )
    .await;
    let answer = post(
        &running,
        body(
            "alice",
            &[
                ("spammer", "", AGREE),
                ("bob", "", AGREE),
                ("inline_bad", "", ADD),
            ],
        ),
    )
    .await;
    assert_eq!(
        answer,
        vec![
            (38001, "account is blocked".into()),
            (0, String::new()),
            (38001, "account is blocked".into())
        ]
    );
    // A blocked responder: every item is rejected.
    let answer = post(
        &running,
        body("banned", &[("bob", "", AGREE), ("carol", "", ADD)]),
    )
    .await;
    assert_eq!(codes(&answer), [38001, 38001]);
}

#[tokio::test]
async fn account_field_and_allow_only_mode() {
    let (_dir, running) = gateway_with(
        "[[rule]]\nname = \"staff-only\"\nkind = \"accounts\"\nmode = \"allow_only\"\nfield = \"to\"\naccounts = [\"staff1\", \"staff2\"]\ncode = 38010\n",
    )
    .await;
    let answer = post(
        &running,
        body("anyone", &[("staff1", "", AGREE), ("stranger", "", AGREE)]),
    )
    .await;
    assert_eq!(
        answer,
        vec![
            (0, String::new()),
            (38010, "rejected by rule staff-only".into())
        ]
    );
}

#[tokio::test]
async fn word_filter_is_case_insensitive_beyond_ascii() {
    let (_dir, running) = gateway_with(
        "[[rule]]\nname = \"words\"\nkind = \"words\"\nwords = [\"casino\"]\nwords_file = \"words.txt\"\ncode = 38002\ninfo = \"remark not allowed\"\n",
    )
    .await;
    let answer = post(
        &running,
        body(
            "alice",
            &[
                ("u1", "get FREE MONEY now", AGREE),
                ("u2", "so viel ärger", AGREE),
                ("u3", "请加微信", AGREE),
                ("u4", "CaSiNo night", AGREE),
                ("u5", "hello friend", AGREE),
                ("u6", "", AGREE),
                ("u7", "a casino, all lower case", AGREE),
            ],
        ),
    )
    .await;
    assert_eq!(codes(&answer), [38002, 38002, 38002, 38002, 0, 0, 38002]);
}

#[tokio::test]
async fn word_filter_reads_only_the_fields_named() {
    let (_dir, running) = gateway_with(
        "[[rule]]\nname = \"tags\"\nkind = \"words\"\nwords = [\"vip\"]\nfields = [\"TagName\"]\ncode = 38002\n",
    )
    .await;
    let mut body = body("alice", &[("u1", "vip in remark", AGREE)]);
    body = body.replace("\"TagName\":\"\"", "\"TagName\":\"VIP group\"");
    let answer = post(&running, body.clone()).await;
    assert_eq!(codes(&answer), [38002]);
    let answer = post(&running, body.replace("VIP group", "friends")).await;
    assert_eq!(codes(&answer), [0], "the remark is not looked at");
}

#[tokio::test]
async fn rate_limit_cuts_off_mass_accepting_accounts_only() {
    let (_dir, running) = gateway_with(
        "[[rule]]\nname = \"mass-accept\"\nkind = \"rate_limit\"\nmax = 3\nper_seconds = 3600\ncode = 38003\ninfo = \"slow down\"\n",
    )
    .await;
    // Five accepts in one callback: three pass, two are cut off; a reject is not counted.
    let answer = post(
        &running,
        body(
            "spammer",
            &[
                ("a", "", AGREE),
                ("b", "", ADD),
                ("c", "", REJECT),
                ("d", "", AGREE),
                ("e", "", AGREE),
            ],
        ),
    )
    .await;
    assert_eq!(codes(&answer), [0, 0, 0, 0, 38003]);
    let answer = post(&running, body("spammer", &[("f", "", AGREE)])).await;
    assert_eq!(answer, vec![(38003, "slow down".into())]);
    let answer = post(&running, body("normal_user", &[("g", "", AGREE)])).await;
    assert_eq!(codes(&answer), [0], "other accounts have their own budget");
}

#[tokio::test]
async fn action_rules_and_first_rule_wins() {
    let (_dir, running) = gateway_with(
        "[[rule]]\nname = \"rejects-pass\"\nkind = \"action\"\nactions = [\"Response_Action_Reject\"]\ndecision = \"allow\"\n\n\
         [[rule]]\nname = \"blocked\"\nkind = \"accounts\"\naccounts = [\"spammer\"]\ncode = 38001\n\n\
         [[rule]]\nname = \"only-known-actions\"\nkind = \"action\"\nactions = [\"Response_Action_Ignore\"]\ndecision = \"reject\"\ncode = 38004\ninfo = \"unknown action\"\n",
    )
    .await;
    let answer = post(
        &running,
        body(
            "alice",
            &[
                ("spammer", "", REJECT),
                ("spammer", "", AGREE),
                ("x", "", "Response_Action_Ignore"),
                ("y", "", ADD),
            ],
        ),
    )
    .await;
    assert_eq!(
        answer,
        vec![
            (0, String::new()),
            (38001, "rejected by rule blocked".into()),
            (38004, "unknown action".into()),
            (0, String::new())
        ]
    );
    let metrics = client()
        .get(format!("{}/metrics", running.admin))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for line in [
        "friendgate_decisions_total{rule=\"rejects-pass\",decision=\"allow\",command=\"Sns.CallbackPrevFriendResponse\"} 1",
        "friendgate_decisions_total{rule=\"blocked\",decision=\"reject\",command=\"Sns.CallbackPrevFriendResponse\"} 1",
        "friendgate_decisions_total{rule=\"only-known-actions\",decision=\"reject\",command=\"Sns.CallbackPrevFriendResponse\"} 1",
        "friendgate_decisions_total{rule=\"default\",decision=\"allow\",command=\"Sns.CallbackPrevFriendResponse\"} 1",
    ] {
        assert!(metrics.contains(line), "missing `{line}` in\n{metrics}");
    }
}

/// Spellings that read as a listed word, from the hardening issue.
const BYPASSES: [&str; 7] = [
    "ｓｐａｍ",
    "s\u{200b}pam",
    "spa\u{ad}m",
    "free  money",
    "free\u{a0}money",
    "ѕрам",
    "s\u{307}pam",
];

async fn words_answer(confusables: bool, remarks: &[&str]) -> Vec<u64> {
    let rule = format!(
        "[[rule]]\nname = \"words\"\nkind = \"words\"\nwords = [\"spam\", \"free money\"]\ncode = 38002\nconfusables = {confusables}\n"
    );
    let (_dir, running) = gateway_with(&rule).await;
    let items: Vec<(String, &str, &str)> = remarks
        .iter()
        .enumerate()
        .map(|(i, remark)| (format!("u{i}"), *remark, AGREE))
        .collect();
    let items: Vec<(&str, &str, &str)> =
        items.iter().map(|(t, r, a)| (t.as_str(), *r, *a)).collect();
    codes(&post(&running, body("alice", &items)).await)
}

#[tokio::test]
async fn normalized_text_defeats_spelling_tricks() {
    // NFKC, case folding, default-ignorables and white space: the first five.
    let answer = words_answer(false, &BYPASSES[..5]).await;
    assert_eq!(answer, vec![38002; 5], "{BYPASSES:?}");
    // Look-alike letters and stacked marks need `confusables`...
    let answer = words_answer(false, &BYPASSES[5..]).await;
    assert_eq!(answer, vec![0; 2]);
    // ...with which all seven match.
    let answer = words_answer(true, &BYPASSES).await;
    assert_eq!(answer, vec![38002; 7], "{BYPASSES:?}");
    // And ordinary text still passes.
    let answer = words_answer(true, &["see you soon", "spa day", "free time", "Spain"]).await;
    assert_eq!(answer, vec![0; 4]);
}
