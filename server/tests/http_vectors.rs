//! Every conformance vector through real HTTP: the server must answer with
//! the same status, content type and bytes as core's `handle`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;

use friendgate_core::testing::vectors::{load_dir, vectors_dir};
use friendgate_core::{decider_fn, Decider};
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
        let now = case.now;
        // The vectors are `handle`'s, which answers this callback alone: so
        // does a gateway told to refuse other commands (its default answers
        // them OK, see one_url.rs).
        let mut settings = common::settings(case.config.clone());
        settings.other_commands = OtherCommands::Refuse;
        let gateway = Gateway::new(settings)
            .with_decider(decider)
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
        if status != case.expect.status
            || body != case.expect.body
            || content_type != "application/json"
        {
            failures.push(format!(
                "{}/{}: expected {} {}, got {status} {content_type} {body}",
                case.file, case.name, case.expect.status, case.expect.body
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
