//! `Settings::builder`: settings in code mean what the same keys mean in the
//! file, are checked the same way, and serve.

mod common;

use std::time::Duration;

use common::{post_sample, start, APP, TOKEN};
use friendgate_server::settings::{LogFormat, OtherCommands};
use friendgate_server::{Gateway, Settings};

#[test]
fn builder_defaults_are_the_files_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("friendgate.toml");
    std::fs::write(
        &path,
        format!("[callback]\napp_ids = [{APP}]\ntokens = [{{ value = \"{TOKEN}\" }}]\n"),
    )
    .unwrap();
    let file = Settings::load(&path).unwrap();
    let code = Settings::builder([APP]).token(TOKEN).build().unwrap();
    assert_eq!(format!("{:?}", code.server), format!("{:?}", file.server));
    assert_eq!(format!("{:?}", code.log), format!("{:?}", file.log));
    assert_eq!(code.admin, file.admin);
    assert_eq!(code.other_commands, file.other_commands);
    assert_eq!(
        code.callback.window_seconds(),
        file.callback.window_seconds()
    );
    assert_eq!(
        format!("{:?}", code.callback.limits()),
        format!("{:?}", file.callback.limits())
    );
}

#[test]
fn builder_sets_what_it_names() {
    let settings = Settings::builder([APP, 1400000001])
        .token(TOKEN)
        .listen("127.0.0.1:9999".parse().unwrap())
        .path("/callback")
        .request_deadline(Duration::from_millis(1200))
        .max_in_flight(7)
        .window_seconds(30)
        .log_format(LogFormat::Json)
        .log_level("friendgate=debug")
        .other_commands(OtherCommands::Refuse)
        .without_admin()
        .build()
        .unwrap();
    assert_eq!(settings.server.listen.to_string(), "127.0.0.1:9999");
    assert_eq!(settings.server.path, "/callback");
    assert_eq!(
        settings.server.request_deadline,
        Duration::from_millis(1200)
    );
    assert_eq!(settings.server.max_in_flight, 7);
    assert_eq!(settings.callback.window_seconds(), 30);
    assert_eq!(settings.log.format, LogFormat::Json);
    assert_eq!(settings.log.level, "friendgate=debug");
    assert_eq!(settings.other_commands, OtherCommands::Refuse);
    assert!(settings.admin.is_none());
}

#[test]
fn builder_refuses_as_the_file_does_naming_the_key() {
    let cases: Vec<(friendgate_server::SettingsBuilder, &str, &str)> = vec![
        (
            Settings::builder([]).token(TOKEN),
            "callback.app_ids",
            "app id",
        ),
        (
            Settings::builder([APP])
                .token(TOKEN)
                .request_deadline(Duration::from_secs(3)),
            "server.request_deadline_ms",
            "between 100 and 1999",
        ),
        (
            Settings::builder([APP]).token(""),
            "callback.tokens[0]",
            "must not be empty",
        ),
        (
            Settings::builder([APP]).token_env("FRIENDGATE_TEST_UNSET_VARIABLE"),
            "callback.tokens[0]",
            "FRIENDGATE_TEST_UNSET_VARIABLE",
        ),
        (
            Settings::builder([APP]).token(TOKEN).path("callback"),
            "server.path",
            "must start with `/`",
        ),
        (
            Settings::builder([APP])
                .token(TOKEN)
                .log_level("no=such=filter"),
            "log.level",
            "not a log filter",
        ),
    ];
    for (builder, key, reason) in cases {
        let error = builder.build().expect_err(key);
        assert_eq!(error.file.to_str(), Some("(in code)"));
        assert_eq!(error.key, key);
        assert!(error.reason.contains(reason), "{key}: {}", error.reason);
    }
}

#[tokio::test]
async fn a_gateway_on_built_settings_answers_callbacks() {
    let settings = Settings::builder([APP])
        .token(TOKEN)
        .listen("127.0.0.1:0".parse().unwrap())
        .path("/cb")
        .admin_listen("127.0.0.1:0".parse().unwrap())
        .build()
        .unwrap();
    let running = start(Gateway::new(settings)).await;
    let (status, body) = post_sample(&running).await;
    assert_eq!(status, 200);
    assert!(body.starts_with(r#"{"ActionStatus":"OK""#), "{body}");
    let metrics = common::client()
        .get(format!("{}/metrics", running.admin))
        .send()
        .await
        .unwrap();
    assert_eq!(metrics.status(), 200);
}
