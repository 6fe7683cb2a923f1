//! Every conformance vector through real HTTP: the server must answer with
//! the same status, content type and bytes as core's `handle`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use friendgate_core::testing::vectors::{load_dir, vectors_dir};
use friendgate_core::{add_decider_fn, decider_fn, Decider, FriendAdd};
use friendgate_server::settings::OtherCommands;
use friendgate_server::Gateway;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_vector_over_http() {
    let cases = load_dir(&vectors_dir()).unwrap();
    assert!(cases.len() >= 50);
    let client = common::client();
    let mut failures = Vec::new();
    for case in cases {
        let case = Arc::new(case);
        let script = case.clone();
        let decider: Arc<dyn Decider + Send + Sync> =
            Arc::new(decider_fn(move |_, index, _| script.outcome(index)));
        let script = case.clone();
        let add_decider: Arc<dyn Decider<FriendAdd> + Send + Sync> =
            Arc::new(add_decider_fn(move |_, index, _| script.outcome(index)));
        let now = case.now;
        // The vectors are `handle`'s and `handle_add`'s, which answer their
        // command alone: so does a gateway told to refuse other commands
        // (its default answers them OK, see one_url.rs), except that at the
        // one URL the other friend command is decided as one: for those
        // cases the answer must be core's at the one URL.
        let expect = match case.expect.error.as_deref() {
            Some("unexpected_command") => {
                let deciders = friendgate_core::Deciders {
                    response: Some(decider.as_ref()),
                    add: Some(add_decider.as_ref()),
                };
                match friendgate_core::handle_one_url(
                    &case.config,
                    &case.query,
                    &case.body,
                    now,
                    deciders,
                ) {
                    friendgate_core::OneUrl::Reply(reply) => {
                        (reply.status, String::from_utf8(reply.body).unwrap())
                    }
                    friendgate_core::OneUrl::Other(_) => {
                        (case.expect.status, case.expect.body.clone())
                    }
                }
            }
            _ => (case.expect.status, case.expect.body.clone()),
        };
        let mut settings = common::settings(case.config.clone());
        settings.other_commands = OtherCommands::Refuse;
        let gateway = Gateway::new(settings)
            .with_decider(decider)
            .with_add_decider(add_decider)
            .with_clock(Arc::new(move || now));
        let running = common::start(gateway).await;
        let url = running.callback(&case.query);
        let response = client
            .post(&url)
            .body(case.body.clone())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let content_type = response.headers()["content-type"]
            .to_str()
            .unwrap()
            .to_owned();
        let body = response.text().await.unwrap();
        if status != expect.0 || body != expect.1 || content_type != "application/json" {
            failures.push(format!(
                "{}/{}: expected {} {}, got {status} {content_type} {body}",
                case.file, case.name, expect.0, expect.1
            ));
        }
        running.server.shutdown();
        running.server.stopped().await;
    }
    assert!(
        failures.is_empty(),
        "{} cases failed over HTTP:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
